"""Form decoding as Stripe reads it (pure functions)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from plangate.sandbox.core import previous_attributes
from plangate.sandbox.webhooks import sign
from plangate.sandbox.wire import StripeError, apply_metadata, decode_form


def decode(qs: str) -> dict[str, object]:
    return decode_form(parse_qsl(qs, keep_blank_values=True))


def test_nested_brackets_and_indexed_lists() -> None:
    got = decode("items[0][price]=p1&items[0][quantity]=2&items[1][price]=p2"
                 "&subscription_data[metadata][plan]=pro")
    assert got == {"items": [{"price": "p1", "quantity": "2"}, {"price": "p2"}],
                   "subscription_data": {"metadata": {"plan": "pro"}}}


def test_empty_bracket_lists_like_curl() -> None:
    assert decode("expand[]=a&expand[]=b.c") == {"expand": ["a", "b.c"]}
    assert decode("items[][price]=p1&items[][quantity]=1&items[][price]=p2") == {
        "items": [{"price": "p1", "quantity": "1"}, {"price": "p2"}]}


def test_indices_sort_numerically_and_metadata_keys_stay_keys() -> None:
    qs = "&".join(f"lookup_keys[{i}]=k{i}" for i in range(12))
    assert decode(qs)["lookup_keys"] == [f"k{i}" for i in range(12)]
    assert decode("metadata[0]=zero") == {"metadata": {"0": "zero"}}


def test_metadata_set_merge_unset() -> None:
    target = {"metadata": {"a": "1", "b": "2"}}
    apply_metadata(target, {"metadata": {"b": "", "c": "3"}})
    assert target["metadata"] == {"a": "1", "c": "3"}
    apply_metadata(target, {"metadata": ""})
    assert target["metadata"] == {}
    with pytest.raises(StripeError):
        apply_metadata(target, {"metadata": {"k" * 41: "v"}})


def test_previous_attributes_diffs_hashes_and_gives_lists_whole() -> None:
    before = {"status": "trialing", "metadata": {"a": "1", "b": "2"}, "items": {"object": "list",
              "data": [1]}, "same": 1}
    after = {"status": "active", "metadata": {"a": "1", "b": "3"}, "items": {"object": "list",
             "data": [2]}, "same": 1}
    assert previous_attributes(before, after) == {
        "status": "trialing", "metadata": {"b": "2"}, "items": {"object": "list", "data": [1]}}


def test_signature_matches_stripes_vector() -> None:
    header = sign('{"id":"evt_test","object":"event"}', "whsec_test_secret", 1700000000)
    assert header == ("t=1700000000,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a5"
                      "4c49eb0cfb724")
