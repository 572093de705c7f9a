"""Returns, exchanges and problem reports on a verified order, one concern a module: which
items may go back today and why not (`eligibility`), which items the shopper's words mean
(`matching`), other sizes and colours of a style and their stock (`variants`), the RMA's
number, creation and next step (`rma`), and the three requests the assistant makes:
`return_request.start_return`, `exchange_request.start_exchange` and
`problem_report.report_problem`. The money of a return is computed in `bot/money/`.
"""
