"""What the store keeps about shoppers and what reaches them: a shopper's right to see and erase
their data and transcript retention (`data_requests`), personal data masked out of the logs
(`log_masking`), and only http(s) and mailto links in the messages shoppers are sent
(`safe_links`).
"""
