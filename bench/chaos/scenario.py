"""The customers' year: what the simulated customers do through plangate's API, the sandbox's
hosted checkout page and (for cards that start declining, and their recovery) Stripe's API,
month after month, while the cluster is being killed.

Every plangate request carries an ``Idempotency-Key`` and is retried with it until it gets an
answer (an API process may be killed under it). Consumptions are sent concurrently, some of
them twice at once with the same key; the ones answered 200 are *accepted*, those answered
409 ``insufficient_quantity`` are *refused*, and ``verify.py`` checks the ledger against both.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import stripe

from bench.chaos.cluster import Cluster
from plangate.sandbox import CheckoutDeclined, pay_checkout_session

FAILING_CARD = "pm_card_chargeCustomerFail"
DECLINED_AT_CHECKOUT = "4000000000000002"
THREADS = 8


@dataclass
class Consume:
    customer_id: str
    quantity: int


@dataclass
class Driver:
    cluster: Cluster
    customers: int
    seed: int
    subs: dict[str, str] = field(default_factory=dict)  # customer id -> its latest subscription
    plan: dict[str, str] = field(default_factory=dict)  # customer id -> product bought last
    failing: set[str] = field(default_factory=set)  # customers whose card declines
    accepted: dict[str, Consume] = field(default_factory=dict)  # idempotency key -> consume
    refused: dict[str, Consume] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.http = httpx.Client(
            base_url=self.cluster.api_url, timeout=60,
            headers={"Authorization": f"Bearer {self.cluster.secret_key}"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        self.pay_http = httpx.Client(timeout=60)
        self._lock = threading.Lock()

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    # --- plangate's API, retried through kills ------------------------------------------------

    def api(self, method: str, path: str, body: dict[str, Any] | None = None,
            key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key or uuid.uuid4().hex} if method != "GET" else {}
        last = "nothing"
        for attempt in range(60):
            try:
                resp = self.http.request(method, path, json=body, headers=headers)
            except httpx.TransportError as exc:
                # A timeout is a hang; a refused/reset connection a process going away.
                self.count("api_retries_timeout" if isinstance(exc, httpx.TimeoutException)
                           else "api_retries_connection")
                last = f"{type(exc).__name__}: {exc}"
                time.sleep(0.2 + 0.05 * attempt)
                continue
            if resp.status_code >= 500:
                # A 500 is plangate failing (reported); a 502 Stripe refusing, a 503
                # ``gateway_unavailable`` Stripe out of reach for now (retried when it says).
                self.count("api_answered_500" if resp.status_code == 500
                           else f"api_retries_{resp.status_code}_{self.code(resp)}")
                last = f"{resp.status_code} {resp.text[:300]!r}"
                time.sleep(max(0.2 + 0.05 * attempt, self.retry_after(resp)))
                continue
            return resp
        self.count("api_gave_up")
        raise RuntimeError(f"{method} {path}: no answer after 60 attempts, the last: {last}")

    @staticmethod
    def retry_after(resp: httpx.Response) -> float:
        """The answer's ``Retry-After`` in seconds (at most 10), else 0."""
        value = resp.headers.get("retry-after", "")
        return min(10.0, float(value)) if value.isdigit() else 0.0

    @staticmethod
    def code(resp: httpx.Response) -> str:
        """The error's stable ``code`` (the API's one error shape), else the status."""
        try:
            return str(resp.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            return str(resp.status_code)

    def ctype(self, customer_id: str) -> str:
        return "team" if customer_id.startswith("t") else "user"

    def path(self, customer_id: str) -> str:
        return f"/v1/customers/{self.ctype(customer_id)}/{customer_id}"

    # --- purchases ------------------------------------------------------------------------------

    def buy(self, customer_id: str, product: str, card: str = "4242424242424242",
            **extra: Any) -> None:
        resp = self.api("POST", "/v1/checkout-sessions", {
            "customer_type": self.ctype(customer_id), "customer_id": customer_id,
            "product_id": product, **extra})
        if resp.status_code != 201:
            self.count(f"checkout_refused_{self.code(resp)}")
            return
        session = resp.json()
        try:
            pay_checkout_session(session["url"], card, client=self.pay_http)
        except CheckoutDeclined:
            self.count("checkouts_declined")
            return
        self.count(f"bought_{product}")
        if product != "credit_pack":
            cs = self.cluster.stripe.v1.checkout.sessions.retrieve(session["id"])
            self.subs[customer_id] = str(cs.subscription)
            self.plan[customer_id] = product
        elif random.Random(session["id"]).random() < 0.25:
            cs = self.cluster.stripe.v1.checkout.sessions.retrieve(session["id"])
            self.refund({"payment_intent_id": str(cs.payment_intent)}, "credit_pack")

    def refund(self, target: dict[str, Any], what: str) -> None:
        resp = self.api("POST", "/v1/refunds", target)
        self.count(f"refunds_{what}" if resp.status_code < 300
                   else f"refund_refused_{what}_{self.code(resp)}")

    def start(self) -> None:
        def first(n: int) -> None:
            rng = random.Random(f"{self.seed}-start-{n}")
            customer_id = f"t{n:05d}" if n % 10 == 9 else f"u{n:05d}"
            r = rng.random()
            if customer_id.startswith("t"):
                if r < 0.9:
                    self.buy(customer_id, "team")
            elif r < 0.30:
                self.buy(customer_id, "basic")
            elif r < 0.55:
                self.buy(customer_id, "pro")
            elif r < 0.65:
                self.buy(customer_id, "pro", price_id="yearly")
            elif r < 0.80:
                self.buy(customer_id, "credit_pack", quantity=rng.randint(1, 3))
            elif r < 0.88:
                self.buy(customer_id, "pro", card=DECLINED_AT_CHECKOUT)
            else:
                self.api("GET", f"{self.path(customer_id)}/entitlements")

        self._each(first, range(self.customers))

    # --- a month ----------------------------------------------------------------------------------

    def month(self, month: int) -> None:
        def act(customer_id: str) -> None:
            try:
                self._act(customer_id, random.Random(f"{self.seed}-{month}-{customer_id}"))
            except stripe.StripeError as exc:
                self.count(f"stripe_refused_{type(exc).__name__}")

        self._each(act, sorted(self.subs))
        buyers = [f"u{n:05d}" for n in range(0, self.customers, 7) if n % 10 != 9]
        self._each(lambda c: self.buy(c, "credit_pack"), buyers[month % 3::3])
        self.consume_round(month)

    def _act(self, customer_id: str, rng: random.Random) -> None:
        sub_id, plan, path = self.subs[customer_id], self.plan[customer_id], self.path(customer_id)
        r = rng.random()
        if r < 0.05 and customer_id not in self.failing:
            card = self.cluster.stripe.v1.payment_methods.attach(
                FAILING_CARD, {"customer": self._stripe_customer(sub_id)})
            self.cluster.stripe.v1.subscriptions.update(
                sub_id, {"default_payment_method": card.id})
            self.failing.add(customer_id)
            self.count("cards_failing")
        elif r < 0.40 and customer_id in self.failing:
            self._recover(customer_id, sub_id)
        elif r < 0.12 and plan in ("basic", "pro"):
            target = "pro" if plan == "basic" else "basic"
            resp = self.api("POST", f"{path}/products/switch",
                            {"from_product_id": plan, "to_product_id": target})
            if resp.status_code == 200:
                self.plan[customer_id] = target
            self.count(("upgrades" if target == "pro" else "downgrades")
                       if resp.status_code == 200 else f"switch_refused_{self.code(resp)}")
        elif r < 0.16:
            resp = self.api("DELETE", f"{path}/products/{plan}")
            self.count("cancels_at_period_end" if resp.status_code == 200
                       else f"cancel_refused_{self.code(resp)}")
        elif r < 0.18:
            resp = self.api("DELETE", f"{path}/products/{plan}?immediately=true")
            self.count("cancels_now" if resp.status_code == 200
                       else f"cancel_refused_{self.code(resp)}")
        elif r < 0.21:
            resp = self.api("POST", f"{path}/products/{plan}/resume")
            self.count("resumes" if resp.status_code == 200
                       else f"resume_refused_{self.code(resp)}")
        elif r < 0.24:
            sub = self.cluster.stripe.v1.subscriptions.retrieve(sub_id)
            if sub.latest_invoice:
                self.refund({"invoice_id": str(sub.latest_invoice), "amount": 100}, "invoice")
        elif r < 0.30 and not customer_id.startswith("t"):
            sub = self.cluster.stripe.v1.subscriptions.retrieve(sub_id)
            if sub.status in ("canceled", "incomplete_expired"):
                self.failing.discard(customer_id)
                self.buy(customer_id, rng.choice(("basic", "pro")))
                self.count("repurchases")

    def _stripe_customer(self, sub_id: str) -> str:
        return str(self.cluster.stripe.v1.subscriptions.retrieve(sub_id).customer)

    def _recover(self, customer_id: str, sub_id: str) -> None:
        """The customer puts a working card in; an open invoice is paid with it."""
        stripe_ = self.cluster.stripe
        sub = stripe_.v1.subscriptions.retrieve(sub_id, {"expand": ["latest_invoice"]})
        if sub.status in ("canceled", "incomplete_expired"):
            return
        visa = stripe_.v1.payment_methods.attach("pm_card_visa", {"customer": str(sub.customer)})
        stripe_.v1.subscriptions.update(sub_id, {"default_payment_method": visa.id})
        self.failing.discard(customer_id)
        invoice = sub.latest_invoice
        if isinstance(invoice, stripe.Invoice) and invoice.status == "open":
            stripe_.v1.invoices.pay(str(invoice.id), {"payment_method": visa.id})
        self.count("recoveries")

    # --- credits ---------------------------------------------------------------------------

    def consume_round(self, month: int) -> None:
        """A fifth of the users send 4 consumptions at once, one of them twice with one key."""
        rng = random.Random(f"{self.seed}-consume-{month}")
        calls: list[tuple[str, str, int]] = []
        for n in range(self.customers):
            if n % 10 == 9 or rng.random() > 0.2:
                continue
            customer_id = f"u{n:05d}"
            keys = [f"m{month}-{customer_id}-{j}" for j in range(4)]
            for key in keys:
                calls.append((customer_id, key, rng.choice((1, 10, 50, 200, 700, 3000))))
            calls.append(calls[-1])  # the same consumption sent twice at once
        rng.shuffle(calls)
        self._each(lambda call: self._consume(*call), calls, threads=16)

    def _consume(self, customer_id: str, key: str, quantity: int) -> None:
        resp = self.api("POST", f"/v1/customers/user/{customer_id}/items/credits/consume",
                        {"quantity": quantity}, key=key)
        with self._lock:
            if resp.status_code == 200:
                self.accepted[key] = Consume(customer_id, quantity)
                self.counts["consumes_replayed" if resp.headers.get("Idempotent-Replayed")
                            else "consumes_accepted"] += 1
            elif resp.status_code == 409 and self.code(resp) == "insufficient_quantity":
                self.refused[key] = Consume(customer_id, quantity)
                self.counts["consumes_refused"] += 1
            else:
                self.counts[f"consume_refused_{self.code(resp)}"] += 1

    # --- helpers ---------------------------------------------------------------------------

    def _each(self, fn: Callable[[Any], None], items: Any, threads: int = THREADS) -> None:
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(fn, item) for item in items]:
                future.result()
