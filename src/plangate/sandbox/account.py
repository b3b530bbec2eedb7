"""The account the API keys belong to (`GET /v1/account`).

Clients such as dj-stripe read the account on start and on webhooks; the sandbox has one,
created on first read and kept in the store, so its id is stable across restarts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .router import ApiRequest, Router
from .wire import Obj, new_id

if TYPE_CHECKING:
    from .core import Sandbox

router = Router()

_ADDRESS = {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None,
            "state": None}


def _requirements() -> Obj:
    return {"alternatives": [], "current_deadline": None, "currently_due": [],
            "disabled_reason": None, "errors": [], "eventually_due": [], "past_due": [],
            "pending_verification": []}


def _new_account(sb: Sandbox) -> Obj:
    id_ = new_id("acct", 16)
    return {
        "id": id_, "object": "account",
        "business_profile": {
            "annual_revenue": None, "estimated_worker_count": None, "mcc": None,
            "minority_owned_business_designation": None, "name": "Sandbox",
            "product_description": None, "support_address": dict(_ADDRESS),
            "support_email": None, "support_phone": None, "support_url": None, "url": None,
        },
        "business_type": None,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True, "controller": {"type": "account"}, "country": "US",
        "created": sb.real_now(), "default_currency": "usd", "details_submitted": True,
        "email": None,
        "external_accounts": {"object": "list", "data": [], "has_more": False,
                              "url": f"/v1/accounts/{id_}/external_accounts"},
        "future_requirements": _requirements(), "metadata": {}, "payouts_enabled": True,
        "requirements": _requirements(),
        "settings": {
            "bacs_debit_payments": {"display_name": None, "service_user_number": None},
            "branding": {"icon": None, "logo": None, "primary_color": None,
                         "secondary_color": None},
            "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
            "card_payments": {"decline_on": {"avs_failure": True, "cvc_failure": True},
                              "statement_descriptor_prefix": None,
                              "statement_descriptor_prefix_kana": None,
                              "statement_descriptor_prefix_kanji": None},
            "dashboard": {"display_name": "Sandbox", "timezone": "Etc/UTC"},
            "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": None},
            "payments": {"statement_descriptor": None, "statement_descriptor_kana": None,
                         "statement_descriptor_kanji": None,
                         "statement_descriptor_prefix_kana": None,
                         "statement_descriptor_prefix_kanji": None},
            "payouts": {"debit_negative_balances": True,
                        "schedule": {"delay_days": 2, "interval": "daily"},
                        "statement_descriptor": None},
            "sepa_debit_payments": {},
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": "standard",
    }


@router.get("/v1/account", "AccountRetrieveCurrentParams")
def retrieve_account(sb: Sandbox, req: ApiRequest) -> Obj:
    existing = sb.store.all("account")
    if existing:
        return existing[0]
    account = _new_account(sb)
    sb.store.put(account)
    return account
