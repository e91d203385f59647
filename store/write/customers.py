"""The customer archive (客户档案): add, edit per field, archive, contacts, field history."""
from __future__ import annotations

from store.rules import money, validate
from store.errors import Conflict, InvalidInput, NotFound
from store.ledger.ids import uuid7
from store.i18n import N_
from store.read.paging import keyset
from store.rules.search import prefix_range
from store.rules.terms import terms_name

# Field -> normaliser for what a person types. Amount fields need the currency, so they are handled apart.
_NORMALISE = {
    "code": validate.code,
    "name": lambda v: validate.required_text(v, "name"),
    "legal_name": str.strip,
    "tax_id": validate.tax_id,
    "address": str.strip,
    "email": validate.email,
    "phone": validate.phone,
    "language": lambda v: validate.choice(v, validate.LANGUAGES, "language"),
    "currency": money.check_currency,
    "terms": terms_name,  # 月结30 is stored as EOM30
    "category": lambda v: validate.choice(v, validate.CATEGORIES, "category"),
    "settlement_cycle": lambda v: validate.choice(v, validate.CYCLES, "settlement cycle"),
    "tags": validate.tags,
    "notes": str.strip,
}
FIELDS = (*_NORMALISE, "credit_limit")
CONTACT_FIELDS = ("name", "role", "phone", "email", "wechat")


def normalise(fields: dict, currency: str) -> dict:
    """Check and normalise every given field; empty strings clear optional fields."""
    clean = {}
    for key, value in fields.items():
        if key not in FIELDS:
            raise InvalidInput(N_("customers have no field {key}"), key=repr(key), field=key)
        if value is None:
            continue
        if value == "" and key not in ("code", "name", "currency"):
            clean[key] = None
        elif key == "credit_limit":
            clean[key] = money.parse_amount(value, currency, field="credit limit")
        else:
            clean[key] = _NORMALISE[key](value)
    return clean


def by_code(ledger, code: str, *, archived: bool = True) -> dict:
    found = ledger.row("SELECT * FROM customers WHERE code=? ORDER BY id LIMIT 1", (code,))
    if found is None or (not archived and found["archived"]):
        raise NotFound(N_("unknown customer {code}"), code=repr(code))
    return found


def _known_terms(ledger, name: str) -> None:
    from store.rules.terms import BUILTIN_TERMS

    if name and name not in BUILTIN_TERMS and not ledger.row(
        "SELECT 1 AS x FROM terms WHERE name=? AND coalesce(archived,0)=0", (name,)
    ):
        raise NotFound(N_("unknown payment terms {name}: add them with `duly terms add`"), name=repr(name))


def _unique_tax_id(ledger, tax_id: str | None, customer_id: str | None = None) -> None:
    """A second customer with the same tax id is most often the same company entered twice: refused."""
    if not tax_id:
        return
    other = ledger.row("SELECT code, name FROM customers WHERE tax_id=? AND id IS NOT ? ORDER BY id LIMIT 1",
                       (tax_id, customer_id))
    if other:
        error = Conflict(N_("tax id {tax_id} is already customer {code}'s ({name}); if this is really another "
                            "customer (a branch, say), allow it with --allow-duplicate-tax-id"),
                         tax_id=tax_id, code=other['code'], name=other['name'])
        error.field = "tax_id"  # an import names the column
        raise error


def similar_names(ledger, name: str, *, exclude_id: str | None = None) -> list[dict]:
    """Customers whose name is the same once case, width, punctuation and a legal form are set aside."""
    key = validate.name_key(name or "")
    if not key:
        return []
    return [r for r in ledger.rows("SELECT id, code, name FROM customers WHERE id IS NOT ? ORDER BY code",
                                   (exclude_id,)) if validate.name_key(r["name"] or "") == key]


def add(ledger, code: str, name: str, *, allow_duplicate_tax_id: bool = False, **fields) -> str:
    """Create a customer; the code must be new, and the tax id too unless allowed (archived=True files it away at
    once, as an import can). Returns its id."""
    archived = int(bool(fields.pop("archived", False)))
    currency = money.check_currency(fields.pop("currency", None) or ledger.setting("currency", "CNY"))
    clean = normalise({"code": code, "name": name, **fields}, currency)
    clean["currency"] = currency
    clean.setdefault("settlement_cycle", "per_order")
    with ledger.writing() as tx:
        if ledger.row("SELECT 1 AS x FROM customers WHERE code=?", (clean["code"],)):
            raise Conflict(N_("customer code {code} is already used"), code=repr(clean['code']))
        if not allow_duplicate_tax_id:
            _unique_tax_id(ledger, clean.get("tax_id"))
        if clean.get("terms"):
            _known_terms(ledger, clean["terms"])
        customer_id = uuid7()
        tx.set("customers", customer_id, **clean, archived=archived)
    return customer_id


def edit(ledger, code: str, /, *, allow_duplicate_tax_id: bool = False, **fields) -> dict:
    """Change the given fields; return what changed ({field: (old, new)}). A tax id another customer has is
    refused unless allowed."""
    with ledger.writing() as tx:
        current = by_code(ledger, code)
        currency = (money.check_currency(fields["currency"]) if fields.get("currency")
                    else money.stored_currency(current["currency"]))
        clean = normalise(fields, currency)
        if "code" in clean and clean["code"] != code and ledger.row(
            "SELECT 1 AS x FROM customers WHERE code=?", (clean["code"],)
        ):
            raise Conflict(N_("customer code {code} is already used"), code=repr(clean['code']))
        if clean.get("terms"):
            _known_terms(ledger, clean["terms"])
        changed = {k: (current[k], v) for k, v in clean.items() if current[k] != v}
        if "tax_id" in changed and not allow_duplicate_tax_id:
            _unique_tax_id(ledger, changed["tax_id"][1], current["id"])
        if changed:
            tx.set("customers", current["id"], **{k: new for k, (_, new) in changed.items()})
    return changed


def set_archived(ledger, code: str, archived: bool) -> None:
    with ledger.writing() as tx:
        tx.set("customers", by_code(ledger, code)["id"], archived=int(archived))


def add_contact(ledger, code: str, name: str, **fields) -> str:
    clean = {"name": validate.required_text(name, "contact name")}
    for key, value in fields.items():
        if key not in CONTACT_FIELDS:
            raise InvalidInput(N_("contacts have no field {key}"), key=repr(key), field=key)
        if value:
            clean[key] = {"email": validate.email, "phone": validate.phone}.get(key, str.strip)(value)
    with ledger.writing() as tx:
        customer_id = by_code(ledger, code)["id"]
        contact_id = uuid7()
        tx.set("contacts", contact_id, customer_id=customer_id, archived=0, **clean)
    return contact_id


def _contact_fields(fields: dict) -> dict:
    clean = {}
    for key, value in fields.items():
        if key not in CONTACT_FIELDS:
            raise InvalidInput(N_("contacts have no field {key}"), key=repr(key), field=key)
        if key == "name":
            clean[key] = validate.required_text(value, "contact name")
        else:
            clean[key] = {"email": validate.email, "phone": validate.phone}.get(key, str.strip)(value) if value else None
    return clean


def contact_by_id(ledger, contact_id: str) -> dict:
    found = ledger.row("SELECT * FROM contacts WHERE id=? AND coalesce(archived,0)=0", (contact_id,))
    if found is None:
        raise NotFound(N_("no contact {id}"), id=repr(contact_id))
    return found


def edit_contact(ledger, contact_id: str, **fields) -> dict:
    """Change a contact's fields (an empty one is cleared; the name stays required); returns what changed."""
    clean = _contact_fields(fields)
    with ledger.writing() as tx:
        current = contact_by_id(ledger, contact_id)
        changed = {k: (current[k], v) for k, v in clean.items() if current[k] != v}
        if changed:
            tx.set("contacts", contact_id, **{k: new for k, (_, new) in changed.items()})
    return changed


def remove_contact(ledger, contact_id: str) -> dict:
    """Take a contact off the customer's list (kept in the history, like an archived customer)."""
    with ledger.writing() as tx:
        current = contact_by_id(ledger, contact_id)
        tx.set("contacts", contact_id, archived=1)
    return current


def contacts(ledger, customer_id: str) -> list[dict]:
    return ledger.rows(
        "SELECT id, name, role, phone, email, wechat FROM contacts WHERE customer_id=? AND coalesce(archived,0)=0 "
        "ORDER BY id",
        (customer_id,),
    )


def history(ledger, customer_id: str) -> list[dict]:
    """Each field change of the customer and its contacts: old, new, when, who (from the change log)."""
    return ledger.rows(
        """SELECT h.col AS field, h.old, h.new, h.at, h.actor, h.device, h.tbl
           FROM field_history h
           WHERE (h.tbl='customers' AND h.row_id=:id)
              OR (h.tbl='contacts' AND h.row_id IN (SELECT id FROM contacts WHERE customer_id=:id))
           ORDER BY h.hlc, h.id""",
        {"id": customer_id},
    )


# The columns the customer list sorts by (in SQL), each an expression that is never NULL.
SORTS = {"code": "code", "name": "coalesce(name, '')", "currency": "coalesce(currency, '')",
         "terms": "coalesce(terms, '')", "category": "coalesce(category, '')",
         "credit_limit": "coalesce(credit_limit, -1)"}


def sort_value(row: dict, column: str):
    """The value a row is sorted by (the next page's keyset), as SORTS compares it."""
    value = row.get(column)
    return value if value is not None else (-1 if column == "credit_limit" else "")


def listing(ledger, *, search: str | None = None, archived: bool = False, limit: int | None = None,
            after: str | tuple | None = None, sort: str = "code", descending: bool = False) -> list[dict]:
    """Customers by code (keyset-paged with `after`, the last code shown), or by another column of SORTS (then
    `after` is (value, code)), optionally those a search finds: part of the code, name, legal name or tax id,
    or the name's pinyin, whole or by initials (`hengda`, `shhd`; store/rules/search.py)."""
    where, params = ["1=1"], {}
    if not archived:
        where.append("coalesce(archived,0)=0")
    found = prefix_range(search) if search else None
    if found:
        where.append("id IN (SELECT customer_id FROM customer_search WHERE term >= :low AND term < :high)")
        params["low"], params["high"] = found
    if sort not in SORTS:
        raise InvalidInput(N_("cannot sort by {column}"), column=repr(sort), field="sort")
    if isinstance(after, str):
        after = (after, after) if sort == "code" else None
    page_after, order = keyset(SORTS[sort], "code", descending, tuple(after) if after else None, params)
    if page_after:
        where.append(page_after)
    sql = (
        "SELECT id, code, name, currency, terms, credit_limit, category, settlement_cycle, email, phone, tags, archived "
        f"FROM customers WHERE {' AND '.join(where)} ORDER BY {order}"
    )
    if limit:
        sql += f" LIMIT {int(limit)}"
    return ledger.rows(sql, params)
