"""The company profile (letterhead and bank details) every outbound document carries: the company.* settings."""
from __future__ import annotations

from store.write.settings import get

COMPANY_KEYS = ("company.name", "company.legal_name", "company.tax_id", "company.address", "company.phone",
                "company.email", "company.bank_name", "company.bank_account", "company.account_name")


def company_profile(ledger) -> dict[str, str]:
    """The issuing company as documents show it: {name, legal_name, tax_id, address, phone, email, bank_name,
    bank_account, account_name}; a key never set is ''. The legal name falls back to the name, the account name
    to the legal name (what a bank statement would show)."""
    found = {key.partition(".")[2]: (get(ledger, key) or "") for key in COMPANY_KEYS}
    found["name"] = found["name"] or found["legal_name"] or "Duly"
    found["legal_name"] = found["legal_name"] or found["name"]
    found["account_name"] = found["account_name"] or found["legal_name"]
    return found
