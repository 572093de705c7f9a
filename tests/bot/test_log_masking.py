"""Shoppers' personal data never reaches a log file in clear (issue #15, Privacy)."""
from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from bot.privacy.log_masking import mask_logs, mask_text
from bot.settings import PROJECT_ROOT


@pytest.mark.parametrize(
    "text, secret",
    [
        ("my email is lisa.smith@example.com thanks", "lisa.smith@example.com"),
        ("call me on +1 555-123-4567", "555-123-4567"),
        ("or (555) 123-4567 after six", "123-4567"),
        ("UK mobile 07700 900123", "07700 900123"),
        ("card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
        ("card 4111-1111-1111-1111", "4111-1111-1111-1111"),
        ("card 4111111111111111", "4111111111111111"),
        ("ship to 123 Main St please", "123 Main St"),
        ("42 Elm Avenue Apt 5, Springfield", "Elm Avenue Apt 5"),
    ],
)
def test_personal_data_is_masked(text, secret):
    assert secret not in mask_text(text)


def test_email_keeps_first_letter_and_domain():
    assert mask_text("from lisa.smith@example.com") == "from l***@example.com"


@pytest.mark.parametrize(
    "text",
    [
        "order 104776 is late",
        "orders 12345 and 123456789012",
        "refund 125.50 on ticket 12 at 2026-12-04 03:47:00",
    ],
)
def test_order_numbers_and_amounts_stay_readable(text):
    assert mask_text(text) == text


@pytest.fixture
def masked_root_logger():
    """mask_logs() on this test's root logger, undone afterwards so other tests see raw logs."""
    root = logging.getLogger()
    loggers = [root, *(x for x in logging.Logger.manager.loggerDict.values() if isinstance(x, logging.Logger))]
    targets = [root, *(h for logger in loggers for h in logger.handlers)]
    saved = {id(t): list(t.filters) for t in targets}
    mask_logs()
    yield root
    for target in targets:
        target.filters[:] = saved[id(target)]


def test_filter_masks_after_formatting_args(caplog, masked_root_logger):
    logging.getLogger("tinsel.test").warning("shopper %s wrote about order %s", "lisa@example.com", "104776")
    assert "lisa@example.com" not in caplog.text
    assert "l***@example.com" in caplog.text and "104776" in caplog.text


def test_records_on_the_root_logger_are_masked(caplog, masked_root_logger):
    logging.warning("root: %s", "lisa@example.com")
    assert "lisa@example.com" not in caplog.text and "l***@example.com" in caplog.text


def test_a_real_process_writes_masked_logs(tmp_path):
    """A separate Python process, configured the way our servers are, logs masked lines."""
    log_file = tmp_path / "server.log"
    program = (
        "import logging\n"
        "from bot.privacy.log_masking import mask_logs\n"
        f"logging.basicConfig(filename={str(log_file)!r}, level=logging.INFO)\n"
        "own = logging.getLogger('sanic.error')  # like Sanic's loggers: its own handler, not the root's\n"
        "own.propagate = False\n"
        f"own.addHandler(logging.FileHandler({str(log_file)!r}))\n"
        "mask_logs()\n"
        "own.error('could not answer %s', 'bob.jones@example.com')\n"
        "logging.getLogger('rasa.core').info('user said %s', 'I am bob.jones@example.com, 07700 900123, "
        "card 4111 1111 1111 1111, 123 Main St, order 104776')\n"
        "logging.info('root logger: %s', 'bob.jones@example.com')\n"
    )
    subprocess.run([sys.executable, "-c", program], cwd=PROJECT_ROOT, check=True, timeout=60)
    written = log_file.read_text()
    for secret in ("bob.jones@example.com", "07700 900123", "4111 1111 1111 1111", "123 Main St"):
        assert secret not in written
    assert written.count("b***@example.com") == 3
    assert "104776" in written
