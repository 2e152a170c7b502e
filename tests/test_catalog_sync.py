"""magento.catalog.product_management.updated: the catalog (and shipping methods) reaching OMS."""

from __future__ import annotations

import pytest

from momlab import data
from momlab.bus import catalog
from tests.support.mocks import wait_for
from tests.support.rpc import post, rpc, rpc_error

PRODUCT = "magento.catalog.product_management.updated"


def products(mock) -> dict[str, dict]:
    return {row["sku"]: row for row in mock.client.state("products")}


def test_the_catalog_example_is_accepted_and_stored(mock):
    result = mock.client.call(PRODUCT, catalog.example(PRODUCT))
    assert result == {"sku": "TEE-ORG-S", "name": "Organic cotton tee S", "type": "PHYSICAL", "created": False,
                      "previous": {"name": "Organic cotton tee S", "type": "PHYSICAL"}}


def test_a_new_product_is_created(mock):
    params = {"product": {"id": "77", "sku": "SCARF-WOOL", "type": "PHYSICAL", "enabled": True,
                          "name": [{"value": "Wool scarf", "channel": "WEB-US", "locale": "en_US"},
                                   {"value": "Bufanda de lana", "channel": "POS-BCN", "locale": "es_ES"}],
                          "custom_attributes": [{"attribute_code": "color", "value": "red"}], "children_skus": []}}
    result = mock.client.call(PRODUCT, params)
    assert result == {"sku": "SCARF-WOOL", "name": "Wool scarf", "type": "PHYSICAL", "created": True, "previous": None}
    assert products(mock)["SCARF-WOOL"] == {"sku": "SCARF-WOOL", "name": "Wool scarf", "type": "PHYSICAL"}
    assert len(products(mock)) == len(data.rows("products")) + 1


def test_a_shipping_method_arrives_as_a_product_of_type_shipping(mock):
    params = {"product": {"sku": "UPS-NextDayAirEarlyAM", "type": "shipping", "name": [{"value": "UPS Next Day Air Early A.M."}]}}
    result = mock.client.call(PRODUCT, params)
    assert result["type"] == "SHIPPING" and result["created"] is True
    assert products(mock)["UPS-NextDayAirEarlyAM"]["type"] == "SHIPPING"


def test_an_update_refreshes_the_name_and_keeps_what_is_not_sent(mock):
    mock.client.call(PRODUCT, {"product": {"sku": "LAMP-DESK", "name": [{"value": None}, {"value": "Brass desk lamp"}]}})
    row = products(mock)["LAMP-DESK"]
    assert row == {"sku": "LAMP-DESK", "name": "Brass desk lamp", "type": "PHYSICAL"}
    result = mock.client.call(PRODUCT, {"product": {"sku": "LAMP-DESK", "type": "virtual"}})
    assert result == {"sku": "LAMP-DESK", "name": "Brass desk lamp", "type": "VIRTUAL", "created": False,
                      "previous": {"name": "Brass desk lamp", "type": "PHYSICAL"}}
    # upsert: still one row per sku
    assert sum(1 for r in mock.client.state("products") if r["sku"] == "LAMP-DESK") == 1


def test_a_new_product_without_name_or_type_gets_defaults(mock):
    result = mock.client.call(PRODUCT, {"product": {"sku": "NEW-1", "type": "  ", "name": []}})
    assert result == {"sku": "NEW-1", "name": "NEW-1", "type": "PHYSICAL", "created": True, "previous": None}


def test_it_sends_nothing_and_is_journaled(mock):
    answer = post(mock, "/delegate/oms", rpc(PRODUCT, {"product": {"sku": "ASYNC-1", "type": "PHYSICAL"}}, id=9))
    assert answer.status_code == 200 and answer.json() == {"jsonrpc": "2.0", "id": 9, "result": {}}
    wait_for(lambda: "ASYNC-1" in products(mock), what="the product stored")
    assert mock.client.journal(direction="out") == []
    (row,) = mock.client.journal(method=PRODUCT)
    assert row["status"] == "ok" and row["response"]["sku"] == "ASYNC-1"


@pytest.mark.parametrize(
    "params, path",
    [
        ({}, "$.params.product"),
        ({"product": {"name": [{"value": "no sku"}]}}, "$.params.product.sku"),
        ({"product": {"sku": ""}}, "$.params.product.sku"),
        ({"product": {"sku": "X", "name": "just a string"}}, "$.params.product.name"),
    ],
)
def test_bad_products_are_refused_with_a_path(mock, params, path):
    before = products(mock)
    error = rpc_error(post(mock, "/api", rpc(PRODUCT, params)), -32602)
    assert error["data"]["path"] == path
    assert products(mock) == before


def test_reset_brings_the_catalog_back_to_the_data(mock):
    mock.client.call(PRODUCT, {"product": {"sku": "GONE-1", "type": "PHYSICAL"}})
    mock.client.call(PRODUCT, {"product": {"sku": "TEE-ORG-S", "name": [{"value": "Renamed"}]}})
    mock.reset()
    rows = products(mock)
    assert "GONE-1" not in rows and rows["TEE-ORG-S"]["name"] == "Organic cotton tee S"
