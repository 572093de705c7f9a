"""The deterministic demo store behind `python -m bot seed`.

Every run builds the same rows for the same `settings.today()`. Order dates are offsets from
that day, so the demo always tells a current story: parcels on their way today, a delay from
last night's storm, purchases from the most recent holiday season, one order delivered long
ago and out of its return window. Order numbers and emails never change, so the README's
demo table (DEMO_ORDERS) stays true.

Shipment and event statuses: a shipment carries its order's status; its events use
label_created, picked_up, in_transit, out_for_delivery, delivered, delayed (the last event of
a delayed parcel, whose description is the cause), return_in_transit and returned.
"""
from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.money import audit, refund_ladder
from bot.money.refunds import items_key
from bot.returns.rma import rma_for
from bot.settings import PROJECT_ROOT, Settings, get_settings
from bot.store.engine import Store, get_store
from bot.store.models import (
    Customer,
    Order,
    OrderItem,
    Product,
    ProductTag,
    Refund,
    Return,
    ReturnItem,
    Shipment,
    ShipmentEvent,
)
from bot.support import accounts as agents

CENT = Decimal("0.01")
WAREHOUSE = "Columbus, OH"
RETURNS_CENTRE = "Tinsel returns centre, Columbus, OH"

# --------------------------------------------------------------------------------- catalog


@dataclass(frozen=True)
class _Item:
    sku: str
    name: str
    category: str
    price: str
    stock: int
    ages: tuple[int, int]
    tags: tuple[str, ...]
    description: str
    style: str | None = None
    size: str | None = None
    color: str | None = None
    final_sale: bool = False
    replenish_days: int | None = None


def _variants(style: str, name: str, price: str, ages, tags, description, variants, **extra):
    """One _Item per (sku suffix, size, colour, stock) of an apparel style."""
    return [
        _Item(f"{style}-{suffix}", name, "apparel", price, stock, ages, tags, description,
              style=style, size=size, color=color, **extra)
        for suffix, size, color, stock in variants
    ]


ADULT = (16, 120)
CATALOG: list[_Item] = [
    # toys
    _Item("TOY-ROBOT", "Build-a-Bot Coding Robot Kit", "toys", "59.00", 24, (8, 14), ("science", "gaming"),
          "Snap together a six-wheeled robot, then program it from a tablet with colourful blocks."),
    _Item("TOY-FOX", "Maple the Fox Plush", "toys", "24.00", 40, (0, 10), ("pets",),
          "An extra-soft 14-inch fox with a knitted scarf; machine washable."),
    _Item("TOY-RAIL", "Wooden Railway Starter Set", "toys", "89.00", 12, (3, 8), ("building",),
          "52 beech-wood pieces: a figure-eight track, a bridge, a station and a magnetic train."),
    _Item("TOY-SCOPE", "StarGazer 70mm Kids' Telescope", "toys", "129.00", 9, (8, 16), ("science", "outdoors"),
          "A real refractor with two eyepieces, a sturdy tripod and a moon map for first nights out."),
    _Item("TOY-CHEM", "Kitchen Chemistry Lab", "toys", "29.00", 0, (10, 15), ("science", "cooking"),
          "Twenty safe experiments with things from the pantry: fizzing volcanoes to red-cabbage pH."),
    _Item("TOY-REINDEER", "Squeaky Reindeer Dog Toy", "toys", "14.00", 60, (0, 120), ("pets",),
          "A tough, double-stitched plush reindeer with a squeaker in its nose."),
    # books
    _Item("BK-ATLAS", "The Illustrated Atlas of Curious Places", "books", "32.00", 30, (10, 120), ("reading", "travel"),
          "Hand-drawn maps of 80 strange and wonderful places, from glowing caves to floating villages."),
    _Item("BK-BAKING", "Flour & Fire: Holiday Baking", "books", "28.00", 22, (12, 120), ("reading", "baking", "cooking"),
          "Sixty tested recipes for stollen, panettone, gingerbread houses and fail-safe pie crust."),
    _Item("BK-MYSTERY", "The Lighthouse Mysteries (4-book box set)", "books", "45.00", 15, (9, 14), ("reading",),
          "Four page-turning mysteries for middle-grade readers, in a lighthouse-shaped slipcase."),
    _Item("BK-BARISTA", "The Home Barista Handbook", "books", "26.00", 18, ADULT, ("coffee", "reading"),
          "Dialling in espresso, steaming silky milk and brewing a better pour-over at home."),
    _Item("BK-FOOTBALL", "Beautiful Game: 100 Years of Football", "books", "38.00", 14, (12, 120), ("football", "reading"),
          "A photographic history of the world's favourite sport, from muddy pitches to world cups."),
    # art & crafts
    _Item("ART-WATERCOLOR", "Artist Watercolor Set, 36 Pans", "art & crafts", "42.00", 26, (10, 120), ("art",),
          "Richly pigmented half pans in a metal tin with a mixing palette and a water brush."),
    _Item("ART-SKETCH", "Hardbound Sketchbook A4", "art & crafts", "18.00", 70, (8, 120), ("art",),
          "120 pages of 160 gsm acid-free paper that takes pencil, ink and light washes."),
    _Item("ART-BRUSH", "Sable Brush Set (8 pieces)", "art & crafts", "29.00", 33, (12, 120), ("art",),
          "Round, flat and detail brushes with soft synthetic-sable tips and a roll-up case."),
    _Item("ART-KNIT", "Beginner Knitting Kit: Chunky Scarf", "art & crafts", "36.00", 19, (12, 120), ("crafts", "fashion"),
          "Merino yarn, bamboo needles and a step-by-step guide to a first scarf in a weekend."),
    _Item("ART-CLAY", "Air-Dry Clay Studio", "art & crafts", "22.00", 28, (6, 120), ("art", "crafts"),
          "Two pounds of white clay, sculpting tools and paints; no kiln needed."),
    # kitchen
    _Item("KIT-ESPRESSO", "Barista Pro Dual-Boiler Espresso Machine", "kitchen", "2349.00", 4, (18, 120), ("coffee", "cooking"),
          "Café-grade dual boilers, PID temperature control and a commercial steam wand."),
    _Item("KIT-GRINDER", "Precision Burr Coffee Grinder", "kitchen", "149.00", 11, (18, 120), ("coffee",),
          "40 mm conical burrs and 40 grind settings, from espresso-fine to French-press coarse."),
    _Item("KIT-MIXER", "Heritage 5-Quart Stand Mixer", "kitchen", "329.00", 7, (16, 120), ("baking", "cooking"),
          "A tilt-head mixer with dough hook, whisk and paddle, in cranberry red."),
    _Item("KIT-TEAPOT", "Cast Iron Teapot with Infuser", "kitchen", "54.00", 16, ADULT, ("tea",),
          "A 24 oz Japanese-style tetsubin with an enamelled interior and a stainless infuser."),
    _Item("KIT-PIZZA", "Pizza Stone & Peel Set", "kitchen", "48.00", 20, ADULT, ("cooking", "outdoors"),
          "A cordierite stone for the oven or grill with a folding bamboo peel."),
    _Item("KIT-KNIFE", "Damascus Chef's Knife 8\"", "kitchen", "189.00", 8, (18, 120), ("cooking",),
          "67 layers of Damascus steel around a VG-10 core, with a walnut saya."),
    # apparel
    *_variants("APP-SWEATER", "Fair Isle Holiday Sweater", "68.00", ADULT, ("fashion",),
               "A lambswool-blend crew neck with a snowflake yoke.",
               [("S", "S", "Red", 5), ("M", "M", "Red", 0), ("L", "L", "Red", 8), ("XL", "XL", "Red", 2)]),
    *_variants("APP-BEANIE", "Cable-Knit Beanie", "22.00", (8, 120), ("fashion", "outdoors"),
               "A fleece-lined cable-knit beanie that keeps ears warm on the coldest walks.",
               [("CHR", "One size", "Charcoal", 30), ("CRN", "One size", "Cranberry", 0),
                ("OAT", "One size", "Oatmeal", 12)]),
    *_variants("APP-HOODIE", "Kids' Dino Hoodie", "34.00", (3, 10), ("fashion",),
               "A cosy zip hoodie with felt spikes down the hood and back.",
               [("4", "4-5Y", "Green", 6), ("6", "6-7Y", "Green", 0), ("8", "8-9Y", "Green", 4)]),
    *_variants("APP-SOCKS", "Cozy Cabin Socks (3 pairs)", "19.00", (10, 120), ("fashion", "outdoors"),
               "Thick wool-blend socks with a cushioned sole. Final sale for hygiene reasons.",
               [("M", "M", "Assorted", 25), ("L", "L", "Assorted", 18)], final_sale=True),
    # home decor
    _Item("HOM-CANDLE", "Fir & Cedar Soy Candle", "home decor", "32.00", 45, ADULT, ("wellness",),
          "A 60-hour soy candle with a crackling wooden wick and notes of balsam fir and cedar.",
          replenish_days=60),
    _Item("HOM-THROW", "Chunky Knit Throw Blanket", "home decor", "95.00", 10, (0, 120), ("fashion",),
          "A hand-knitted 50x60\" throw in oatmeal chenille that never sheds."),
    _Item("HOM-ORNAMENT", "Personalized Family Ornament", "home decor", "26.00", 50, (0, 120), ("art",),
          "A hand-painted ceramic bauble with up to six names. Personalized, so final sale.",
          final_sale=True),
    _Item("HOM-LAMP", "Himalayan Salt Lamp", "home decor", "39.00", 21, ADULT, ("wellness",),
          "A hand-carved pink salt lamp on a wooden base with a dimmer cord."),
    _Item("HOM-HERBS", "Self-Watering Herb Garden", "home decor", "58.00", 13, (10, 120), ("gardening", "cooking"),
          "A windowsill planter with a grow light and seed pods for basil, parsley and thyme."),
    # tech gadgets
    _Item("TEC-HEADPHONES", "Noise-Cancelling Wireless Headphones", "tech gadgets", "249.00", 14, (12, 120), ("music", "travel"),
          "Adaptive noise cancelling, 30-hour battery and a fold-flat travel case."),
    _Item("TEC-SPEAKER", "Waterproof Bluetooth Speaker", "tech gadgets", "79.00", 27, (10, 120), ("music", "outdoors"),
          "IP67, floats, 16 hours of play and a carabiner loop for the trail."),
    _Item("TEC-CAMERA", "Instant Film Camera", "tech gadgets", "89.00", 17, (8, 120), ("photography", "art"),
          "Point, shoot and hold a credit-card-size print a minute later; selfie mirror included."),
    _Item("TEC-FILM", "Instant Film Twin Pack (20 shots)", "tech gadgets", "19.00", 80, (8, 120), ("photography",),
          "Two ten-shot cartridges of colour instant film for the Instant Film Camera.",
          replenish_days=45),
    _Item("TEC-CONTROLLER", "Pro Wireless Game Controller", "tech gadgets", "69.00", 23, (8, 120), ("gaming",),
          "Hall-effect sticks, remappable back paddles and 40 hours per charge."),
    _Item("TEC-EREADER", "Glow E-Reader 7\"", "tech gadgets", "149.00", 12, (8, 120), ("reading", "travel"),
          "A glare-free 300 ppi screen with warm light, waterproofing and weeks of battery."),
    # beauty & bath
    _Item("BTH-BOMBS", "Bath Bomb Gift Box (12)", "beauty & bath", "28.00", 36, (6, 120), ("wellness",),
          "Twelve hand-pressed bath bombs: peppermint, orange clove, lavender and more.",
          replenish_days=30),
    _Item("BTH-SOAP", "Oat & Honey Soap Trio", "beauty & bath", "18.00", 42, (0, 120), ("wellness",),
          "Cold-process soaps with colloidal oat and local honey, gentle on winter skin.",
          replenish_days=45),
    _Item("BTH-LIPBALM", "Lip Balm Stocking Stuffer Set", "beauty & bath", "12.00", 90, (6, 120), ("wellness",),
          "Four beeswax lip balms: candy cane, vanilla, cocoa and unscented. Final sale.",
          final_sale=True, replenish_days=60),
    _Item("BTH-DIFFUSER", "Ultrasonic Aroma Diffuser", "beauty & bath", "46.00", 15, ADULT, ("wellness",),
          "A quiet wood-grain diffuser with seven light colours and an auto shut-off."),
    _Item("BTH-OILS", "Essential Oil Sampler (6)", "beauty & bath", "22.00", 38, ADULT, ("wellness",),
          "Six 10 ml oils: eucalyptus, lavender, sweet orange, peppermint, cedarwood, frankincense.",
          replenish_days=45),
    # sports & outdoors
    _Item("SPO-EBIKE", "Trailblazer Premium E-Bike", "sports & outdoors", "3499.00", 2, (16, 120), ("cycling", "outdoors"),
          "A mid-drive e-MTB with a 720 Wh battery, hydraulic brakes and 90 miles of range."),
    _Item("SPO-BALL", "Match Football, Size 5", "sports & outdoors", "35.00", 40, (8, 120), ("football",),
          "A thermally bonded match ball with a true flight and a soft touch."),
    _Item("SPO-GOALS", "Pop-Up Training Goals (pair)", "sports & outdoors", "65.00", 11, (6, 120), ("football", "outdoors"),
          "Two 4x3 ft goals that spring open in seconds and fold into one carry bag."),
    _Item("SPO-YOGA", "Cork Yoga Mat", "sports & outdoors", "78.00", 16, ADULT, ("fitness", "wellness"),
          "A natural cork mat on a rubber base: grips better the more you sweat."),
    _Item("SPO-HAMMOCK", "Ultralight Camping Hammock", "sports & outdoors", "49.00", 22, (12, 120), ("outdoors",),
          "Parachute nylon, tree-friendly straps, packs down to the size of a grapefruit."),
    _Item("SPO-BOTTLE", "Insulated Trail Bottle", "sports & outdoors", "29.00", 64, (6, 120), ("outdoors", "fitness"),
          "Keeps cocoa hot for 12 hours and water cold for 24; leak-proof lid."),
    # games & puzzles
    _Item("GAM-PUZZLE", "1000-Piece Puzzle: Winter Village", "games & puzzles", "24.00", 35, (10, 120), ("puzzles",),
          "A snowy village at dusk, printed on thick blue-board with a linen finish."),
    _Item("GAM-ISLES", "Settlers of the Isles Board Game", "games & puzzles", "49.00", 19, (10, 120), ("gaming",),
          "Trade, build and sail in this family strategy game for 3-4 players, 60 minutes."),
    _Item("GAM-CHESS", "Walnut Chess Set", "games & puzzles", "119.00", 6, (8, 120), ("gaming",),
          "A folding walnut and maple board with weighted Staunton pieces."),
    _Item("GAM-HOTTAKES", "Hot Takes Party Card Game", "games & puzzles", "22.00", 31, (17, 120), ("gaming",),
          "The party game of outrageous opinions, for 4-10 grown-ups."),
    _Item("GAM-ESCAPE", "Escape Room in a Box", "games & puzzles", "32.00", 14, (12, 120), ("puzzles", "gaming"),
          "Crack codes and open locks to escape the mad scientist's lab in under an hour."),
    # food gifts
    _Item("FOO-BEANS", "Single-Origin Coffee Sampler (3 x 250 g)", "food gifts", "36.00", 48, ADULT, ("coffee",),
          "Whole beans from Ethiopia, Colombia and Sumatra, roasted to order.",
          replenish_days=21),
    _Item("FOO-TEA", "Winter Tea Collection (24 sachets)", "food gifts", "26.00", 37, (12, 120), ("tea",),
          "Spiced chai, rooibos cinnamon, smoky lapsang and five more for long evenings.",
          replenish_days=30),
    _Item("FOO-TRUFFLES", "Artisan Chocolate Truffles (16)", "food gifts", "34.00", 25, (6, 120), ("chocolate",),
          "Hand-rolled truffles: sea salt caramel, raspberry, hazelnut praline. Perishable, final sale.",
          final_sale=True),
    _Item("FOO-GINGER", "Gingerbread House Kit", "food gifts", "29.00", 20, (4, 120), ("baking",),
          "Pre-baked walls, icing mix and a tub of sweets; the whole family builds, then eats."),
    _Item("FOO-HAMPER", "Deluxe Holiday Hamper", "food gifts", "159.00", 9, (18, 120), ("cooking", "chocolate", "tea"),
          "A willow basket of cheeses, crackers, preserves, truffles and tea. Perishable, final sale.",
          final_sale=True),
    _Item("FOO-BISCUITS", "Gourmet Dog Biscuits", "food gifts", "16.00", 55, (0, 120), ("pets",),
          "Oven-baked peanut-butter and pumpkin biscuits, made without wheat.",
          replenish_days=30),
]

# Each pair is linked both ways: buying one suggests the other.
COMPLEMENT_PAIRS = [
    ("ART-WATERCOLOR", "ART-SKETCH"),
    ("ART-WATERCOLOR", "ART-BRUSH"),
    ("ART-SKETCH", "ART-BRUSH"),
    ("KIT-GRINDER", "FOO-BEANS"),
    ("KIT-ESPRESSO", "KIT-GRINDER"),
    ("KIT-ESPRESSO", "FOO-BEANS"),
    ("KIT-ESPRESSO", "BK-BARISTA"),
    ("KIT-GRINDER", "BK-BARISTA"),
    ("KIT-TEAPOT", "FOO-TEA"),
    ("TEC-CAMERA", "TEC-FILM"),
    ("BTH-DIFFUSER", "BTH-OILS"),
    ("SPO-BALL", "SPO-GOALS"),
    ("SPO-BALL", "BK-FOOTBALL"),
    ("KIT-MIXER", "BK-BAKING"),
    ("KIT-MIXER", "FOO-GINGER"),
    ("TOY-SCOPE", "TOY-CHEM"),
    ("TOY-SCOPE", "BK-ATLAS"),
    ("SPO-EBIKE", "SPO-BOTTLE"),
    ("SPO-HAMMOCK", "SPO-BOTTLE"),
    ("KIT-PIZZA", "KIT-KNIFE"),
    ("TOY-REINDEER", "FOO-BISCUITS"),
    ("GAM-PUZZLE", "FOO-TEA"),
    ("TEC-EREADER", "BK-MYSTERY"),
    ("TEC-SPEAKER", "SPO-BOTTLE"),
    ("TEC-HEADPHONES", "TEC-EREADER"),
    ("BTH-BOMBS", "BTH-SOAP"),
    ("HOM-THROW", "HOM-CANDLE"),
    ("APP-SWEATER", "APP-BEANIE"),
    ("ART-KNIT", "APP-BEANIE"),
]


def _slug(*parts: str | None) -> str:
    text = " ".join(p for p in parts if p and p != "One size")
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


# ------------------------------------------------------------------------------- customers

# name, city, birthday: (month, day) or days from today (an upcoming birthday for the demo), birth year
CUSTOMERS = [
    ("Emma Lawson", "Portland, OR", 3, 1986),
    ("Liam Carter", "Austin, TX", (3, 14), 1979),
    ("Olivia Bennett", "Denver, CO", (7, 2), 1991),
    ("Noah Ramirez", "Chicago, IL", (10, 23), 1984),
    ("Ava Thompson", "Boston, MA", (5, 9), 1975),
    ("Ethan Nguyen", "Seattle, WA", 9, 1988),
    ("Sophia Patel", "Atlanta, GA", (12, 30), 1993),
    ("Mason Brooks", "Minneapolis, MN", (2, 11), 1969),
    ("Isabella Rossi", "Philadelphia, PA", (8, 17), 1982),
    ("Lucas Kim", "San Diego, CA", (4, 26), 1996),
    ("Mia Johnson", "Nashville, TN", 12, 1990),
    ("James O'Connor", "Boston, MA", (6, 5), 1972),
    ("Charlotte Dubois", "New Orleans, LA", (9, 19), 1987),
    ("Benjamin Cohen", "Brooklyn, NY", (1, 8), 1981),
    ("Amelia Garcia", "Phoenix, AZ", 20, 1994),
    ("Henry Walker", "Raleigh, NC", (11, 2), 1965),
    ("Harper Singh", "Detroit, MI", (3, 30), 1998),
    ("Daniel Okafor", "Houston, TX", (10, 4), 1983),
    ("Evelyn Murphy", "Pittsburgh, PA", (5, 27), 1977),
    ("Samuel Adeyemi", "Charlotte, NC", 30, 1989),
    ("Abigail Foster", "Salt Lake City, UT", (8, 8), 1992),
    ("Jack Sullivan", "Kansas City, MO", (12, 12), 1974),
    ("Grace Yamamoto", "San Jose, CA", -5, 1985),
    ("Leo Moreau", "Burlington, VT", (2, 21), 1999),
    ("Zoe Martinez", "Miami, FL", (7, 15), 1995),
]


def email_for(name: str) -> str:
    first, last = name.lower().split(" ", 1)
    return f"{re.sub('[^a-z]', '', first)}.{re.sub('[^a-z]', '', last)}@example.com"


def _birthday(spec, year: int, today: dt.date) -> dt.date:
    if isinstance(spec, int):
        upcoming = today + dt.timedelta(days=spec)
        month, day = upcoming.month, upcoming.day
    else:
        month, day = spec
    if (month, day) == (2, 29):
        day = 28
    return dt.date(year, month, day)


# ---------------------------------------------------------------------------------- orders

TRANSIT_DAYS = {"standard": 5, "express": 2, "overnight": 1}
SHIPPING_PRICES = {"standard": Decimal("5.99"), "express": Decimal("14.99"), "overnight": Decimal("24.99")}
FREE_STANDARD_SHIPPING_FROM = Decimal("50.00")
HOLIDAY_SALE_DISCOUNT = Decimal("0.20")
CARRIERS = ("UPS", "FedEx", "USPS", "DHL")
CARRIER_HUBS = {"UPS": "Louisville, KY", "FedEx": "Memphis, TN", "USPS": "Indianapolis, IN", "DHL": "Cincinnati, OH"}
WAYPOINTS = ("Harrisburg, PA", "Nashville, TN", "Kansas City, MO", "Chicago, IL", "Dallas, TX", "Denver, CO")
DELIVERY_NOTES = ("left at front door", "handed to resident", "left in parcel locker",
                  "delivered to mailroom", "left on back porch")
# cause: (where the parcel is stuck, the delay scan's description shown to the shopper)
DELAY_CAUSES = {
    "weather": ("en route", "Weather delay: a winter storm stopped trucks and flights in the area"),
    "volume": ("en route", "Operational delay: record holiday volume at this facility"),
    "connection": ("en route", "Missed connection at this facility; it leaves on the next truck"),
    "vehicle": ("destination", "Delivery vehicle breakdown; rescheduled for the next delivery day"),
}


@dataclass(frozen=True)
class _Plan:
    """One demo order. `when` depends on the status:

    processing, cancelled: days since it was placed; shipped: days until the ETA;
    out_for_delivery: unused (arrives today); delayed: days since the original ETA;
    delivered, returned: days since delivery, or with holiday=True days into the
    most recent holiday purchase period.
    """

    number: str
    customer: int
    status: str
    when: int
    items: str  # "SKU SKU*2"
    method: str = "standard"
    carrier: str | None = None
    gift: bool = False
    holiday: bool = False
    sale: bool = False
    delay: str | None = None
    new_eta: int = 2  # delayed: days until the revised ETA
    label: bool = False  # processing: a shipping label already exists
    reason: str = "changed_mind"  # returned: why (one of bot.returns.return_request.RETURN_REASONS)


PLANS = [
    # processing
    _Plan("104802", 10, "processing", 0, "ART-WATERCOLOR ART-SKETCH"),
    _Plan("104791", 0, "processing", 1, "BTH-BOMBS BTH-SOAP", gift=True),
    _Plan("104805", 13, "processing", 0, "TOY-ROBOT", method="express"),
    _Plan("104788", 1, "processing", 1, "FOO-GINGER BK-BAKING"),
    _Plan("104794", 14, "processing", 1, "APP-HOODIE-8*2", method="express"),
    _Plan("104797", 3, "processing", 1, "KIT-MIXER", method="overnight", label=True, carrier="UPS"),
    _Plan("104808", 15, "processing", 0, "GAM-ESCAPE HOM-ORNAMENT", label=True, carrier="USPS"),
    # shipped
    _Plan("104776", 1, "shipped", 3, "TEC-SPEAKER SPO-BOTTLE", carrier="UPS"),
    _Plan("104764", 0, "shipped", 2, "TOY-SCOPE BK-ATLAS", gift=True, carrier="FedEx"),
    _Plan("104783", 2, "shipped", 1, "TEC-CONTROLLER", method="express", carrier="DHL"),
    _Plan("104779", 4, "shipped", 4, "FOO-HAMPER", gift=True, carrier="UPS"),
    _Plan("104761", 16, "shipped", 1, "SPO-YOGA", carrier="USPS"),
    _Plan("104773", 5, "shipped", 3, "ART-KNIT APP-BEANIE-OAT", carrier="FedEx"),
    _Plan("104767", 17, "shipped", 2, "TEC-EREADER", carrier="UPS"),
    _Plan("104785", 6, "shipped", 1, "TOY-RAIL", method="express", gift=True, carrier="FedEx"),
    # out for delivery (arriving today)
    _Plan("104770", 2, "out_for_delivery", 0, "GAM-ISLES GAM-PUZZLE", method="express", gift=True, carrier="FedEx"),
    _Plan("104749", 1, "out_for_delivery", 0, "KIT-PIZZA KIT-KNIFE", carrier="UPS"),
    _Plan("104782", 18, "out_for_delivery", 0, "FOO-TRUFFLES", method="overnight", gift=True, carrier="UPS"),
    _Plan("104752", 3, "out_for_delivery", 0, "SPO-BALL SPO-GOALS", carrier="USPS"),
    _Plan("104774", 8, "out_for_delivery", 0, "BTH-DIFFUSER BTH-OILS", method="express", carrier="DHL"),
    _Plan("104755", 19, "out_for_delivery", 0, "TOY-FOX BK-MYSTERY", gift=True, carrier="USPS"),
    # delayed
    _Plan("104731", 0, "delayed", 1, "KIT-TEAPOT FOO-TEA", gift=True, carrier="FedEx", delay="weather", new_eta=2),
    _Plan("104728", 2, "delayed", 2, "HOM-LAMP", carrier="UPS", delay="volume", new_eta=1),
    _Plan("104758", 20, "delayed", 1, "APP-SWEATER-S", method="express", carrier="USPS", delay="vehicle", new_eta=1),
    _Plan("104722", 4, "delayed", 3, "KIT-GRINDER BK-BARISTA", carrier="FedEx", delay="weather", new_eta=2),
    _Plan("104737", 9, "delayed", 1, "TEC-CAMERA TEC-FILM*2", carrier="DHL", delay="connection", new_eta=3),
    _Plan("104734", 21, "delayed", 2, "APP-BEANIE-CHR APP-SOCKS-L", carrier="UPS", delay="weather", new_eta=2),
    # cancelled
    _Plan("104743", 12, "cancelled", 6, "SPO-HAMMOCK"),
    _Plan("104683", 0, "cancelled", 15, "TEC-SPEAKER", method="express"),
    _Plan("104665", 5, "cancelled", 20, "KIT-KNIFE"),
    _Plan("104763", 22, "cancelled", 3, "BTH-LIPBALM*3 ART-CLAY"),
    _Plan("104620", 1, "cancelled", 30, "TOY-CHEM"),
    # returned
    _Plan("104661", 7, "returned", 14, "APP-SWEATER-M APP-BEANIE-CRN", carrier="UPS", reason="wrong_size"),
    _Plan("104548", 0, "returned", 40, "GAM-HOTTAKES", carrier="USPS"),
    _Plan("104617", 2, "returned", 22, "TOY-ROBOT", carrier="FedEx", reason="damaged"),
    _Plan("104596", 3, "returned", 25, "HOM-LAMP", carrier="DHL", reason="damaged"),
    _Plan("104641", 6, "returned", 18, "BK-FOOTBALL", carrier="UPS", reason="unwanted_gift"),
    _Plan("104579", 23, "returned", 30, "TEC-SPEAKER", method="express", carrier="FedEx"),
    _Plan("104503", 8, "returned", 50, "SPO-YOGA", carrier="USPS", reason="not_as_described"),
    # delivered
    _Plan("104719", 3, "delivered", 6, "APP-SWEATER-L APP-SOCKS-M", carrier="UPS"),
    _Plan("104701", 4, "delivered", 9, "TEC-HEADPHONES", method="express", carrier="FedEx"),
    _Plan("104725", 5, "delivered", 4, "KIT-ESPRESSO FOO-BEANS", method="overnight", carrier="UPS"),
    _Plan("104385", 6, "delivered", 24, "HOM-THROW HOM-CANDLE", gift=True, holiday=True, carrier="USPS"),
    _Plan("102418", 11, "delivered", 200, "GAM-CHESS", carrier="UPS"),
    _Plan("104692", 8, "delivered", 12, "SPO-EBIKE SPO-BOTTLE", carrier="FedEx"),
    _Plan("104352", 0, "delivered", 3, "GAM-PUZZLE FOO-TEA FOO-TRUFFLES", gift=True, holiday=True, carrier="UPS"),
    _Plan("104740", 0, "delivered", 3, "BK-MYSTERY", method="express", gift=True, carrier="USPS"),
    _Plan("104367", 1, "delivered", 17, "APP-SWEATER-XL APP-BEANIE-CHR", holiday=True, carrier="FedEx"),
    _Plan("104589", 1, "delivered", 28, "TEC-FILM*3", carrier="USPS"),
    _Plan("104554", 2, "delivered", 33, "ART-BRUSH ART-SKETCH", carrier="DHL"),
    _Plan("104411", 2, "delivered", 38, "TEC-HEADPHONES", holiday=True, carrier="UPS"),
    _Plan("104650", 4, "delivered", 15, "BTH-BOMBS BTH-LIPBALM", carrier="USPS"),
    _Plan("104476", 5, "delivered", 60, "FOO-BEANS*2", carrier="UPS"),
    _Plan("104713", 7, "delivered", 8, "GAM-ESCAPE GAM-PUZZLE", carrier="DHL"),
    _Plan("104429", 9, "delivered", 45, "SPO-BALL BK-FOOTBALL", holiday=True, gift=True, carrier="FedEx"),
    _Plan("104746", 24, "delivered", 2, "FOO-BISCUITS TOY-REINDEER", gift=True, carrier="USPS"),
    _Plan("104524", 3, "delivered", 45, "HOM-HERBS", carrier="UPS"),
    _Plan("104686", 6, "delivered", 11, "KIT-TEAPOT", carrier="FedEx"),
    _Plan("104447", 0, "delivered", 90, "HOM-CANDLE*2", carrier="DHL"),
    _Plan("104393", 4, "delivered", 27, "ART-WATERCOLOR ART-BRUSH", holiday=True, sale=True, gift=True, carrier="USPS"),
]

# Curated for the README: one order per thing worth trying.
DEMO_ORDERS = [
    ("104802", "mia.johnson@example.com", "Processing, not shipped yet: cancel it or ask when it ships"),
    ("104776", "liam.carter@example.com", "On its way with UPS: tracking link and ETA"),
    ("104770", "olivia.bennett@example.com", "Out for delivery today (a gift)"),
    ("104731", "emma.lawson@example.com", "Delayed by a winter storm: the cause and the new ETA"),
    ("104719", "noah.ramirez@example.com", "Return or exchange the sweater (size M sold out); socks are final sale"),
    ("104701", "ava.thompson@example.com", "Refund above the bot's limit: goes to an agent"),
    ("104725", "ethan.nguyen@example.com", "Refund above the agent's limit: needs a supervisor"),
    ("104385", "sophia.patel@example.com", "Holiday-season purchase: extended return window"),
    ("102418", "james.oconnor@example.com", "Delivered long ago: outside the return window"),
    ("104743", "charlotte.dubois@example.com", "Cancelled, refund already issued"),
    ("104661", "mason.brooks@example.com", "Returned, refund issued"),
]


def holiday_period(settings: Settings) -> tuple[dt.date, dt.date]:
    """The most recent holiday purchase period that began at least 11 days ago, so a standard
    parcel ordered in its first days has arrived by today."""
    today = settings.today()
    start_md, end_md = settings.holiday_purchase_start, settings.holiday_purchase_end
    year = today.year
    while dt.date(year, *start_md) + dt.timedelta(days=11) > today:
        year -= 1
    start = dt.date(year, *start_md)
    end = dt.date(year, *end_md)
    if end < start:
        end = dt.date(year + 1, *end_md)
    return start, end


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def _tracking_number(carrier: str, rng: random.Random) -> str:
    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    if carrier == "UPS":
        return "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRTVWXY") for _ in range(6)) + "03" + digits(8)
    if carrier == "FedEx":
        return digits(12)
    if carrier == "USPS":
        return "9400" + digits(18)
    return digits(10)


@dataclass(frozen=True)
class _Timeline:
    placed: dt.datetime
    delivery_day: dt.date | None  # when it arrives (or was due to, for delayed parcels)


def _timeline(plan: _Plan, settings: Settings, index: int) -> _Timeline:
    today = settings.today()
    transit = TRANSIT_DAYS[plan.method]
    hour, minute = (8, 9, 10, 12, 13, 15, 17, 19, 20, 21)[index % 10], (index * 17) % 60

    def placed_before(delivery: dt.date) -> dt.datetime:
        return _at(delivery - dt.timedelta(days=transit + 1), hour, minute)

    if plan.status == "processing":
        day = today - dt.timedelta(days=plan.when)
        return _Timeline(_at(day, 6 + index % 4 if plan.when == 0 else hour, minute), None)
    if plan.status == "cancelled":
        return _Timeline(_at(today - dt.timedelta(days=plan.when), hour, minute), None)
    if plan.status == "shipped":
        delivery = today + dt.timedelta(days=plan.when)
    elif plan.status == "out_for_delivery":
        delivery = today
    elif plan.holiday:
        start, end = holiday_period(settings)
        latest = min(end, today - dt.timedelta(days=transit + 3))
        placed = start + dt.timedelta(days=plan.when % ((latest - start).days + 1))
        return _Timeline(_at(placed, hour, minute), placed + dt.timedelta(days=transit + 1))
    else:  # delayed, delivered, returned
        delivery = today - dt.timedelta(days=plan.when)
    return _Timeline(placed_before(delivery), delivery)


def _journey(line: _Timeline, carrier: str, destination: str, index: int) -> list[tuple]:
    """Every scan of a parcel that arrives as planned: (at, status, location, description)."""
    placed, delivery = line.placed, line.delivery_day
    pickup_day = placed.date() + dt.timedelta(days=1)
    hub = CARRIER_HUBS[carrier]
    hub_departure = _at(pickup_day, 23, 55)
    events = [
        (placed + dt.timedelta(hours=2), "label_created", WAREHOUSE,
         f"Shipping label created; {carrier} awaits the parcel"),
        (_at(pickup_day, 16, 30), "picked_up", WAREHOUSE, f"Picked up by {carrier}"),
        (_at(pickup_day, 20, 40), "in_transit", hub, f"Arrived at {carrier} hub"),
        (hub_departure, "in_transit", hub, f"Departed {carrier} hub"),
    ]
    if (delivery - pickup_day).days >= 3:
        events.append((_at(pickup_day + dt.timedelta(days=2), 14, 20), "in_transit",
                       WAYPOINTS[index % len(WAYPOINTS)], "In transit"))
    events += [
        (max(_at(delivery - dt.timedelta(days=1), 21, 50), hub_departure + dt.timedelta(hours=3)),
         "in_transit", destination, "Arrived at local delivery facility"),
        (_at(delivery, 7, 5), "out_for_delivery", destination, "Out for delivery"),
        (_at(delivery, 10 + index % 6, (index * 7) % 60), "delivered", destination,
         f"Delivered: {DELIVERY_NOTES[index % len(DELIVERY_NOTES)]}"),
    ]
    return events


def _shipment_events(plan: _Plan, line: _Timeline, carrier: str, destination: str, index: int,
                     settings: Settings) -> list[tuple]:
    """The scans that have happened by the store's morning, for the plan's status."""
    if plan.status == "processing":
        return [(line.placed + dt.timedelta(hours=2), "label_created", WAREHOUSE,
                 f"Shipping label created; {carrier} awaits the parcel")]
    journey = _journey(line, carrier, destination, index)
    if plan.status == "shipped":
        cutoff = _at(settings.today(), 7, 0)
        return [e for e in journey if e[0] <= cutoff and e[1] != "out_for_delivery"]
    if plan.status == "out_for_delivery":
        return [e for e in journey if e[1] != "delivered"]
    if plan.status == "delayed":
        where, description = DELAY_CAUSES[plan.delay]
        if where == "destination":
            scans = [e for e in journey if e[1] != "delivered"]
        else:
            scans = [e for e in journey if e[2] != destination]
        last = scans[-1]
        eve_of_delivery = _at(line.delivery_day - dt.timedelta(days=1), 18, 20)
        delayed_at = max(last[0] + dt.timedelta(hours=4), eve_of_delivery)
        return scans + [(delayed_at, "delayed", last[2], description)]
    if plan.status == "returned":
        delivered = journey[-1][0]
        return journey + [
            (_at(delivered.date() + dt.timedelta(days=3), 15, 10), "return_in_transit", destination,
             f"Return parcel dropped off with {carrier}"),
            (_at(delivered.date() + dt.timedelta(days=7), 11, 40), "returned", RETURNS_CENTRE,
             "Return received and inspected"),
        ]
    return journey


def _parse_items(text: str) -> list[tuple[str, int]]:
    items = []
    for token in text.split():
        sku, _, qty = token.partition("*")
        items.append((sku, int(qty or 1)))
    return items


def _shipping_paid(method: str, items_total: Decimal) -> Decimal:
    if method == "standard" and items_total >= FREE_STANDARD_SHIPPING_FROM:
        return Decimal("0.00")
    return SHIPPING_PRICES[method]


# ----------------------------------------------------------------------------------- build


def build_demo_store(store: Store, settings: Settings) -> dict[str, int]:
    """Fills an empty schema with the demo catalog, customers and orders; returns row counts."""
    with store.session() as s:
        products = _add_catalog(s)
        customers = _add_customers(s, settings)
        for index, plan in enumerate(PLANS):
            _add_order(s, plan, index, products, customers, settings)
        s.flush()
        _finish_customers(s, customers)
        return {
            "products": len(products),
            "categories": len({p.category for p in products.values()}),
            "customers": len(customers),
            "orders": len(PLANS),
        }


def _add_catalog(s: Session) -> dict[str, Product]:
    products: dict[str, Product] = {}
    for item in CATALOG:
        product = Product(
            sku=item.sku,
            style=item.style or item.sku,
            name=item.name,
            category=item.category,
            description=item.description,
            price=Decimal(item.price),
            size=item.size,
            color=item.color,
            stock=item.stock,
            min_age=item.ages[0],
            max_age=item.ages[1],
            final_sale=item.final_sale,
            replenish_days=item.replenish_days,
            slug=_slug(item.name, item.color, item.size),
            tags=[ProductTag(tag=t) for t in item.tags],
        )
        products[item.sku] = product
        s.add(product)
    by_style: dict[str, list[Product]] = {}
    for product in products.values():
        by_style.setdefault(product.style, []).append(product)
    for a, b in COMPLEMENT_PAIRS:
        for left in by_style[a]:
            for right in by_style[b]:
                left.complements.append(right)
                right.complements.append(left)
    s.flush()
    return products


def _add_customers(s: Session, settings: Settings) -> list[Customer]:
    customers = []
    for name, _city, birthday, year in CUSTOMERS:
        customer = Customer(
            name=name,
            email=email_for(name),
            birthday=_birthday(birthday, year, settings.today()),
            loyalty_points=0,
            created_at=_at(settings.today(), 0),  # replaced once their orders exist
        )
        customers.append(customer)
        s.add(customer)
    s.flush()
    return customers


def _add_order(s: Session, plan: _Plan, index: int, products: dict[str, Product],
               customers: list[Customer], settings: Settings) -> None:
    customer = customers[plan.customer]
    destination = CUSTOMERS[plan.customer][1]
    line = _timeline(plan, settings, index)
    order = Order(number=plan.number, customer=customer, placed_at=line.placed, status=plan.status,
                  shipping_method=plan.method, is_gift=plan.gift, shipping_paid=Decimal("0.00"))
    for sku, qty in _parse_items(plan.items):
        price = products[sku].price
        if plan.sale:
            price = (price * (1 - HOLIDAY_SALE_DISCOUNT)).quantize(CENT)
        order.items.append(OrderItem(product=products[sku], quantity=qty, unit_price=price))
    order.shipping_paid = _shipping_paid(plan.method, order.items_total)
    s.add(order)
    s.flush()

    if plan.status == "cancelled":
        _add_cancellation_refund(s, order)
        return
    if plan.status == "processing" and not plan.label:
        return
    carrier = plan.carrier or CARRIERS[index % len(CARRIERS)]
    rng = random.Random(f"tinsel-tracking-{plan.number}")
    events = _shipment_events(plan, line, carrier, destination, index, settings)
    by_status = {e[1]: e[0] for e in events}
    if plan.status == "processing":
        eta = line.placed.date() + dt.timedelta(days=TRANSIT_DAYS[plan.method] + 1)
    elif plan.status == "delayed":
        eta = settings.today() + dt.timedelta(days=plan.new_eta)
    else:
        eta = line.delivery_day
    shipment = Shipment(
        order=order,
        carrier=carrier,
        tracking_number=_tracking_number(carrier, rng),
        status=plan.status,
        eta=eta,
        shipped_at=by_status.get("picked_up"),
        delivered_at=by_status.get("delivered"),
        events=[ShipmentEvent(at=at, status=status, location=where, description=text)
                for at, status, where, text in events],
    )
    s.add(shipment)
    if plan.status == "returned":
        s.flush()
        _add_return(s, order, plan, by_status["return_in_transit"], by_status["returned"], settings)


def _add_cancellation_refund(s: Session, order: Order) -> None:
    """Cancelled before shipping: the whole payment went back, as bot.orders.lookup.cancel does it."""
    at = order.placed_at + dt.timedelta(hours=3)
    refund = Refund(order=order, amount=order.total_paid, reason="order_cancelled", method="original_payment",
                    status="issued", required_level="bot", idempotency_key=f"order:{order.id}:cancel",
                    decided_by="bot", decided_at=at, created_at=at)
    s.add(refund)
    s.flush()
    audit.record(s, actor="bot", action="order_cancelled", at=at, order_id=order.id, refund_id=refund.id,
                 amount=refund.amount, detail="cancelled before shipping (demo history)")


def _add_return(s: Session, order: Order, plan: _Plan, sent_at: dt.datetime, received_at: dt.datetime,
                settings: Settings) -> None:
    """A finished return of the whole order: the items' price went back (not the shipping),
    with the RMA, refund key and audit entries bot/returns/ and bot.money.refunds would have made."""
    created = sent_at - dt.timedelta(days=1)
    ret = Return(rma=rma_for(order, 1), order=order, kind="return", reason=plan.reason,
                 refund_method="original_payment", status="closed", created_at=created,
                 items=[ReturnItem(order_item=item, quantity=item.quantity) for item in order.items])
    s.add(ret)
    s.flush()
    audit.record(s, actor="bot", action=audit.RETURN_CREATED, at=created, order_id=order.id,
                 detail=f"{ret.rma} (demo history)")
    decision = refund_ladder.decide(order.items_total, Decimal("0.00"), settings)
    decided_by = {"bot": "bot", "agent": "agent.riley", "supervisor": "supervisor.morgan"}[decision.level]
    refund = Refund(order=order, ret=ret, amount=order.items_total, reason=f"return:{ret.reason}",
                    method=ret.refund_method, status="issued", required_level=decision.level,
                    idempotency_key=items_key(order, [i.id for i in order.items]),
                    decided_by=decided_by, decided_at=received_at, created_at=created)
    s.add(refund)
    s.flush()
    action = audit.REFUND_AUTO_APPROVED if decision.auto_approved else audit.REFUND_APPROVED
    audit.record(s, actor=decided_by, action=action, at=received_at, order_id=order.id, refund_id=refund.id,
                 amount=refund.amount, detail=f"{ret.rma} received (demo history)")


def _finish_customers(s: Session, customers: list[Customer]) -> None:
    """Sign-up dates before the first order; a point per dollar kept (not cancelled or returned)."""
    for index, customer in enumerate(customers):
        orders = s.execute(select(Order).where(Order.customer_id == customer.id)).scalars().all()
        first = min(o.placed_at for o in orders)
        customer.created_at = first - dt.timedelta(days=14 + (index * 37) % 400, hours=index % 7)
        kept = [o for o in orders if o.status not in ("cancelled", "returned")]
        customer.loyalty_points = int(sum((o.items_total for o in kept), Decimal("0")))


# ------------------------------------------------------------------------------ demo table


def demo_orders_markdown(store: Store) -> str:
    """The README table of demo orders, with email and status as the database has them."""
    numbers = [number for number, _, _ in DEMO_ORDERS]
    with store.session() as s:
        found = {
            o.number: o
            for o in s.execute(select(Order).join(Customer).where(Order.number.in_(numbers))).scalars()
        }
        rows = ["| Order | Email | Status | Try |", "|---|---|---|---|"]
        for number, _email, shows in DEMO_ORDERS:
            order = found.get(number)
            if order is None:
                rows.append(f"| {number} | (missing) | (missing) | {shows} |")
            else:
                rows.append(f"| {number} | {order.customer.email} | {order.status.replace('_', ' ')} | {shows} |")
    return "\n".join(rows)


def _where(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def is_default_demo_database(url: str) -> bool:
    """The SQLite file used when DATABASE_URL is unset: the one place demo data goes by default."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return False
    return Path(parsed.database).resolve() == (PROJECT_ROOT / "tinsel.db").resolve()


def seed_command(force: bool = False, demo: bool = False) -> int:
    """`python -m bot seed`: builds the demo store once; --force drops and rebuilds it.

    Only the default SQLite database (or any, with --demo) gets demo orders and demo logins: a
    real store's database must never hold made-up orders or accounts anyone could log in with.
    """
    store, settings = get_store(), get_settings()
    if not (demo or is_default_demo_database(store.url)):
        return _schema_only(store, force)
    store.create_schema()
    with store.session() as s:
        products = s.execute(select(func.count(Product.id))).scalar_one()
        orders = s.execute(select(func.count(Order.id))).scalar_one()
    if products and not force:
        print(f"Demo store already seeded ({products} products, {orders} orders) in {_where(store.url)}")
        print("(`python -m bot seed --force` drops and rebuilds it.)")
    else:
        if force:
            store.drop_schema()
            store.create_schema()
        counts = build_demo_store(store, settings)
        print(
            f"Seeded the demo store in {_where(store.url)} for {settings.today().isoformat()}: "
            f"{counts['products']} products in {counts['categories']} categories, "
            f"{counts['customers']} customers, {counts['orders']} orders."
        )
    print()
    print("Demo orders (verify with the order number and its email):")
    print()
    print(demo_orders_markdown(store))
    print()
    _print_demo_logins(store, settings)
    return 0


def _schema_only(store: Store, force: bool) -> int:
    if force:
        print(f"Not dropping anything in {_where(store.url)}: it is not the demo store "
              "(add --demo to rebuild it as one).")
        return 2
    store.create_schema()
    print(f"Tables ready in {_where(store.url)}. No demo orders and no console accounts were created: "
          "this is not the default demo database (`python -m bot seed --demo` fills it with demo data).")
    print("Add console accounts with: python -m bot agents add NAME --role agent|supervisor --limit AMOUNT")
    return 0


def _print_demo_logins(store: Store, settings: Settings) -> None:
    """Shows a demo login's password once, when it is created; later runs say how to set a new one."""
    print(f"Agents' console logins (demo only; `python -m bot console`, port {settings.console_port}):")
    with store.session() as session:
        logins = agents.ensure_demo_accounts(session, settings)
    for username, role, password, limit in logins:
        if password is not None:
            print(f"  {username} / {password}  ({role}, refund limit {limit:.2f}) - shown only now, note it")
        else:
            print(f"  {username}  ({role}, refund limit {limit:.2f}) - its password was printed when it was "
                  f"created; set a new one with: python -m bot agents reset-password {username}")
