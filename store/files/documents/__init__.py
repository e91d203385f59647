"""Documents a bookkeeper sends (对账单, 往来款项询证函, 催款函, 请款单): built from the ledger, rendered through
templates the user can change (sandboxed Jinja2), as HTML and as A4 PDF."""
