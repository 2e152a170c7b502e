"""Tests for the message catalog (momlab/messages/*.json and momlab.bus.catalog)."""
import copy
import dataclasses
import json
import re

import jsonschema
import pytest

from momlab.bus import catalog
from momlab.topics import CHANGE_STATUS, REGISTER, UNREGISTER
from tests.support import examples
from tests.support.paths import EXAMPLES, OBJECTIVES_FILE

DRAFT = "https://json-schema.org/draft/2020-12/schema"

# mom-reference.md section 3, rows 1-3, 5-10, 12, 13, 16, 17, 18, 20-29
REQUIRED = [
    "magento.service_bus.remote.register",                                # 1
    "magento.service_bus.remote.unregister",                              # 2
    "magento.sales.order_management.create",                              # 3
    "magento.sales.order_management.updated",                             # 5
    "magento.sales.order_management.create_comment",                      # 6
    "magento.catalog.product_management.updated",                         # 7
    "magento.inventory.source_stock_management.update",                   # 8
    "magento.inventory.aggregate_stock_management.updated",               # 9
    "magento.inventory.source_repository.search",                         # 10
    "magento.logistics.warehouse_management.request_shipment",            # 12
    "magento.logistics.shipment_request_management.lines_change_status",  # 13
    "magento.logistics.shipment_request_repository.search",               # 16
    "magento.logistics.warehouse_management.lines_shipped",               # 17
    "magento.logistics.warehouse_management.lines_declined",              # 18
    "magento.logistics.fulfillment_management.customer_shipment_done",    # 20
    "magento.logistics.carrier_management.request_shipping_details",      # 21
    "magento.postsales.return_management.authorize",                      # 22
    "magento.postsales.return_management.updated",                        # 23
    "magento.postsales.refund_management.updated",                        # 24
    "magento.payments.payments_management.validate",                      # 25
    "magento.payments.payments_management.revalidate",                    # 26
    "magento.payments.payments_management.capture",                       # 27
    "magento.payments.payments_management.refund",                        # 28
    "magento.payments.payments_management.cancel",                        # 29
]

STOCK = "magento.inventory.source_stock_management.update"
SHIPPED = "magento.logistics.warehouse_management.lines_shipped"
DECLINED = "magento.logistics.warehouse_management.lines_declined"
CREATE = "magento.sales.order_management.create"

METADATA = {"method", "summary", "kind", "delivery", "direction", "sender", "receiver",
            "objectives", "confidence", "notes", "sources", "params_schema"}


def message_files():
    return sorted(catalog.MESSAGES_DIR.glob("*.json"))


def walk_schemas(schema, where="$"):
    """Yield (where, subschema) for every schema object nested in ``schema``."""
    yield where, schema
    for name, sub in schema.get("properties", {}).items():
        yield from walk_schemas(sub, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from walk_schemas(schema["items"], f"{where}[]")
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(key, [])):
            yield from walk_schemas(sub, f"{where}<{key}{i}>")


def complete_example_params():
    return [pytest.param(f, id=f.name) for f in examples.complete_examples()]


def template_params():
    return [pytest.param(f, id=f.name) for f in examples.templates()]


# ---------------------------------------------------------------- the files

def test_catalog_covers_the_required_rows_and_nothing_else():
    assert len(REQUIRED) == 24
    assert catalog.names() == sorted(REQUIRED)
    assert [m.method for m in catalog.all()] == sorted(REQUIRED)


@pytest.mark.parametrize("file", message_files(), ids=lambda f: f.stem)
def test_file_metadata(file):
    raw = json.loads(file.read_text())
    assert METADATA <= raw.keys(), f"missing: {METADATA - raw.keys()}"
    assert set(raw) <= METADATA | {"result_schema", "example"}, f"unexpected keys: {set(raw) - METADATA}"
    assert raw["method"] == file.stem
    assert re.fullmatch(r"magento(\.[a-z_]+){3}", raw["method"])
    assert raw["kind"] in catalog.KINDS
    assert raw["delivery"] in catalog.DELIVERIES
    assert raw["direction"] in catalog.DIRECTIONS
    assert raw["confidence"] in catalog.CONFIDENCES
    assert raw["objectives"] and len(set(raw["objectives"])) == len(raw["objectives"])
    for key in ("summary", "sender", "receiver", "sources"):
        assert raw[key].strip(), key
    # an event is broadcast or async, never a synchronous call
    if raw["kind"] == "event":
        assert raw["delivery"] in ("broadcast", "async")


@pytest.mark.parametrize("file", message_files(), ids=lambda f: f.stem)
def test_schemas_are_valid_draft_2020_12(file):
    raw = json.loads(file.read_text())
    for key in ("params_schema", "result_schema"):
        if key in raw:
            assert raw[key]["$schema"] == DRAFT
            jsonschema.Draft202012Validator.check_schema(raw[key])
    assert raw["params_schema"]["type"] == "object"


@pytest.mark.parametrize("message", catalog.all(), ids=lambda m: m.method)
def test_schemas_document_every_property_and_stay_open(message):
    schemas = [message.params_schema] + ([message.result_schema] if message.result_schema else [])
    for schema in schemas:
        for where, sub in walk_schemas(schema):
            if not where.count("<"):  # anyOf branches only carry "required"
                assert sub.get("description", "").strip(), f"{where} has no description"
            # MOM tolerates unknown fields, so must we
            assert sub.get("additionalProperties", True) is not False, where


def test_objectives_exist_in_the_exam_guide():
    known = set(re.findall(r"^### \*\*(\d\.\d)\*\*", OBJECTIVES_FILE.read_text(), re.M))
    assert "1.1" in known and "9.2" in known and "7.4" not in known
    for message in catalog.all():
        unknown = set(message.objectives) - known
        assert not unknown, f"{message.method}: {sorted(unknown)} not in EXAM_OBJECTIVES.md"


def test_message_is_frozen_and_points_at_its_file():
    message = catalog.get(CREATE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.kind = "event"
    assert catalog.schema_path(CREATE) == message.path
    assert catalog.schema_path(CREATE).name == CREATE + ".json"
    assert catalog.schema_path(CREATE).is_file()
    with pytest.raises(KeyError):
        catalog.schema_path("magento.nothing.here.at_all")


def test_lookup_is_exact_and_case_sensitive():
    assert catalog.get(CREATE).method == CREATE
    assert catalog.get(CREATE.upper()) is None
    assert catalog.get(CREATE + " ") is None
    with pytest.raises(KeyError, match="did you mean"):
        catalog.validate("magento.sales.order_management.crate", {})


# ---------------------------------------------------------------- the catalog's own examples

def undeclared_fields(value, schema, where="$.params"):
    """Paths of keys in ``value`` that ``schema`` does not declare (objects without
    ``properties`` are free-form and not looked into)."""
    found = []
    if isinstance(value, dict) and "properties" in schema:
        for key, sub in value.items():
            if key not in schema["properties"]:
                found.append(f"{where}.{key}")
            else:
                found += undeclared_fields(sub, schema["properties"][key], f"{where}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, sub in enumerate(value):
            found += undeclared_fields(sub, schema["items"], f"{where}[{i}]")
    return found


@pytest.mark.parametrize("message", catalog.all(), ids=lambda m: m.method)
def test_every_message_has_an_example(message):
    assert isinstance(message.example, dict) and message.example, f"{message.path}: no example"


@pytest.mark.parametrize("method", catalog.names())
def test_every_example_validates(method):
    assert catalog.validate(method, catalog.example(method)) == []


@pytest.mark.parametrize("message", catalog.all(), ids=lambda m: m.method)
def test_examples_use_only_declared_fields(message):
    # the schemas stay open, so validate() alone would not catch an invented field
    assert undeclared_fields(message.example, message.params_schema) == []


def test_example_returns_a_fresh_copy():
    in_file = json.loads(catalog.schema_path(CREATE).read_text())["example"]
    first = catalog.example(CREATE)
    assert first == in_file
    first["order"]["id"] = "changed"
    first["order"]["lines"][0]["sku"] = "CHANGED"
    first["order"]["lines"].append({"id": "extra"})
    del first["order"]["addresses"]
    assert catalog.example(CREATE) == in_file
    assert catalog.get(CREATE).example == in_file
    assert catalog.example(CREATE) is not catalog.example(CREATE)


def test_example_of_an_unknown_method_is_a_key_error():
    with pytest.raises(KeyError, match="did you mean magento.sales.order_management.create"):
        catalog.example("magento.sales.order_management.crate")
    with pytest.raises(KeyError, match="unknown method"):
        catalog.example("magento.nothing.here.at_all")


def test_example_missing_from_the_file_is_a_value_error_naming_it(tmp_path, monkeypatch):
    path = write(tmp_path, GOOD_FILE["method"] + ".json", GOOD_FILE)
    monkeypatch.setattr(catalog, "_messages", catalog._load(tmp_path))
    with pytest.raises(ValueError, match="no `example`") as caught:
        catalog.example(GOOD_FILE["method"])
    assert str(path) in str(caught.value)


def test_to_mom_examples_tell_one_order_story():
    assert catalog.example(CREATE)["order"]["id"] == "100000001"
    assert catalog.example(CREATE)["order"]["lines"][0]["id"] == "1"
    assert catalog.example(SHIPPED)["request_id"] == "100000001-1"
    assert catalog.example(DECLINED) == {"request_id": "100000001-1", "items": ["1"]}
    change = catalog.example(CHANGE_STATUS)
    assert change["shipment_request_id"] == "100000001-1"
    assert change["items"][0]["order_line_id"] == "1"


# ---------------------------------------------------------------- public examples

@pytest.mark.parametrize("file", complete_example_params())
def test_complete_examples_validate(file):
    request = json.loads(file.read_text())
    assert catalog.get(request["method"]) is not None, f"{request['method']} missing from catalog"
    assert catalog.validate(request["method"], request["params"]) == []


def test_all_known_complete_examples_were_found():
    names = {path.name for path in examples.complete_examples()}
    assert {f"{CREATE}.json", f"{REGISTER}.json",
            "magento.payments.payments_management.validate.json",
            "magento.payments.payments_management.capture.json"} <= names


def _del(path):
    def change(params):
        *parents, last = path
        target = params
        for key in parents:
            target = target[key]
        del target[last]
        return params
    return change


def _set(path, value):
    def change(params):
        *parents, last = path
        target = params
        for key in parents:
            target = target[key]
        target[last] = value
        return params
    return change


def _replace(value):
    return lambda params: value


PAYMENT_FILES = ["magento.payments.payments_management.validate.json",
                 "magento.payments.payments_management.capture.json"]

BROKEN = [
    # (example file, change, expected path, words the message must contain)
    (f"{CREATE}.json", _del(["order", "id"]), "$.params.order.id", "is required"),
    (f"{CREATE}.json", _del(["order"]), "$.params.order", "is required"),
    (f"{CREATE}.json", _del(["order", "lines", 1, "sku"]), "$.params.order.lines[1].sku", "is required"),
    (f"{CREATE}.json", _del(["order", "lines", 0, "id"]), "$.params.order.lines[0].id", "is required"),
    (f"{CREATE}.json", _set(["order", "lines"], []), "$.params.order.lines", "at least 1"),
    (f"{CREATE}.json", _set(["order", "lines"], {}), "$.params.order.lines", "must be a list, got an object"),
    (f"{CREATE}.json", _set(["order", "id"], 63), "$.params.order.id", "must be a string"),
    (f"{CREATE}.json", _set(["order", "lines", 0, "sku"], ""), "$.params.order.lines[0].sku", "must not be empty"),
    (f"{CREATE}.json", _set(["order", "lines", 1, "line_number"], "two"),
     "$.params.order.lines[1].line_number", "number"),
    (f"{CREATE}.json", _set(["order", "customer"], "GUEST"), "$.params.order.customer", "must be an object"),
    (f"{CREATE}.json", _set(["order", "payments", 0, "transactions", 0, "amount"], [128]),
     "$.params.order.payments[0].transactions[0].amount", "must be a number (or null), got a list"),
    (f"{CREATE}.json", _replace([]), "$.params", "must be an object, got a list"),
    (f"{REGISTER}.json", _del(["id"]), "$.params.id", "is required"),
    (f"{REGISTER}.json", _del(["url"]), "$.params.url", "is required"),
    (f"{REGISTER}.json", _set(["url"], 8001), "$.params.url", "must be a string"),
    (f"{REGISTER}.json", _set(["subscribes"], "magento.x.y.z"), "$.params.subscribes", "must be a list"),
    (f"{REGISTER}.json", _replace("carrier_mock"), "$.params", "must be an object"),
    *[(f, _del(["payment", "order_id"]), "$.params.payment.order_id", "is required") for f in PAYMENT_FILES],
    *[(f, _set(["payment"], []), "$.params.payment", "must be an object, got a list") for f in PAYMENT_FILES],
    *[(f, _set(["payment", "lines", 1, "line_number"], {}), "$.params.payment.lines[1].line_number",
       "must be") for f in PAYMENT_FILES],
    *[(f, _replace(None), "$.params", "must be an object, got null") for f in PAYMENT_FILES],
]


@pytest.mark.parametrize("file,change,path,words", BROKEN,
                         ids=[f"{b[0].split('.')[-2]}->{b[2]}" for b in BROKEN])
def test_broken_examples_are_refused_at_the_broken_spot(file, change, path, words):
    request = examples.load_example(file)
    params = change(copy.deepcopy(request["params"]))
    problems = catalog.validate(request["method"], params)
    assert problems, "the broken request was accepted"
    assert problems[0].path == path, problems
    assert words in problems[0].message, problems[0]


def test_problem_count_is_capped_and_shallow_first():
    request = examples.load_example(f"{CREATE}.json")
    params = copy.deepcopy(request["params"])
    line = params["order"]["lines"][0]
    params["order"]["lines"] = [dict(line, sku="") for _ in range(30)]
    params["order"]["language"] = 5
    problems = catalog.validate(CREATE, params)
    assert len(problems) == catalog.MAX_PROBLEMS
    assert problems[0].path == "$.params.order.language"
    assert problems[1].path == "$.params.order.lines[0].sku"
    assert problems[2].path == "$.params.order.lines[1].sku"


# ---------------------------------------------------------------- hand-made messages

def stock_update(mode="FULL", n=3, **extra):
    snapshot = {"source_id": "WH-BERLIN", "mode": mode, "created_on": "2024-05-01T08:00:00+00:00",
                "stock": [{"sku": f"SKU-{i}", "quantity": i * 1.5} for i in range(n)], **extra}
    return {"snapshot": snapshot}


@pytest.mark.parametrize("mode", ["DELTA", "FULL", "NONZERO"])
def test_stock_update_in_each_mode_validates(mode):
    assert catalog.validate(STOCK, stock_update(mode)) == []


def test_stock_update_with_batch_unlimited_and_the_maximum_size():
    params = stock_update("NONZERO", n=10_000,
                          batch={"process_id": "run-1", "process_number": 1, "process_total": 2})
    params["snapshot"]["stock"][0] = {"sku": "GIFT-CARD", "quantity": 0, "unlimited": True}
    assert catalog.validate(STOCK, params) == []


@pytest.mark.parametrize("params,path,words", [
    (stock_update("delta"), "$.params.snapshot.mode", "must be one of DELTA, FULL, NONZERO (case-sensitive)"),
    (stock_update("Full"), "$.params.snapshot.mode", "'FULL'"),
    (stock_update("FULL", n=10_001), "$.params.snapshot.stock", "at most 10000"),
    ({"snapshot": {"mode": "FULL", "stock": []}}, "$.params.snapshot.source_id", "is required"),
    ({"snapshot": {"source_id": "W", "stock": []}}, "$.params.snapshot.mode", "is required"),
    ({"snapshot": {"source_id": "W", "mode": "FULL", "stock": [{"sku": "", "quantity": 1}]}},
     "$.params.snapshot.stock[0].sku", "must not be empty"),
    ({"snapshot": {"source_id": "W", "mode": "FULL", "stock": [{"sku": "A", "quantity": "5"}]}},
     "$.params.snapshot.stock[0].quantity", "must be a number"),
    ({"snapshot": {"source_id": "W", "mode": "FULL", "stock": [{"sku": "A"}]}},
     "$.params.snapshot.stock[0].quantity", "is required"),
    ({"snapshot": {"source_id": "W", "mode": "FULL", "stock": [{"sku": "A", "quantity": 1,
                                                                "unlimited": "yes"}]}},
     "$.params.snapshot.stock[0].unlimited", "true or false"),
], ids=["lowercase-mode", "mixed-case-mode", "10001-skus", "no-source", "no-mode", "empty-sku",
        "string-qty", "no-qty", "unlimited-string"])
def test_broken_stock_updates_are_refused(params, path, words):
    problems = catalog.validate(STOCK, params)
    assert problems and problems[0].path == path, problems
    assert words in problems[0].message


def long_stock(n, bad=()):
    params = stock_update("FULL", n=n)
    for index, item in bad:
        params["snapshot"]["stock"][index] = item
    return params


@pytest.mark.parametrize("params", [
    long_stock(10_001),
    long_stock(10_001, bad=[(3, {"sku": "", "quantity": 1}), (9_000, {"sku": "A", "quantity": "5"})]),
    long_stock(500, bad=[(400, {"sku": "A"})]),
    long_stock(120, bad=[(0, "not an object")]),
], ids=["10001-valid-items", "10001-two-bad-items", "500-one-bad-item", "120-not-an-object"])
def test_long_lists_are_explained_as_plain_jsonschema_explains_them(params, monkeypatch):
    """The detailed check runs a long list through the compiled item check first: the problems must be
    exactly those of jsonschema's own validator."""
    quick = catalog.validate(STOCK, params)
    monkeypatch.setattr(catalog, "_detailed_class", lambda: jsonschema.Draft202012Validator)
    monkeypatch.setattr(catalog, "_detailed", {})
    assert quick and quick == catalog.validate(STOCK, params)


PACKAGE = {"id": "PKG-1", "carrier": "DHL", "tracking_number": "00340434", "tracking_link":
           "https://track.example/00340434", "tracking_comment": "", "shipping_label_link": None,
           "details": {"name": "BOX-S", "weight": 0.8, "weight_unit": "kg", "length": 30,
                       "width": 20, "height": 10, "dimensions_unit": "cm"},
           "items": ["1", "2"],
           "aggregated_items": [{"aggregated_line_id": "A1", "sku": "TSHIRT", "quantity": 2,
                                 "order_lines": ["101", "102"]}]}
ITEM = {"order_line_id": "101", "order_line_number": 1, "item_type": "PHYSICAL", "sku": "TSHIRT",
        "name": "T-shirt", "status": "SHIPPED", "status_reason": "OSREPORT",
        "status_date": "2024-05-01T10:00:00+00:00", "parent_order_line_number": "1"}

VALID = [
    (SHIPPED, {"request_id": "SR-1", "packages": [PACKAGE], "items": [ITEM]}),
    (SHIPPED, {"request_id": "SR-1", "packages": [PACKAGE]}),
    (SHIPPED, {"request_id": "SR-1", "items": [{"order_line_number": "2"}]}),
    (DECLINED, {"request_id": "SR-1", "items": ["101", "101", "102"]}),
    (CHANGE_STATUS, {"shipment_request_id": "SR-1", "user": "wms", "items": [
        {"order_line_id": "101", "order_line_number": 1, "sku": "TSHIRT", "status": "RECEIVEDBYLOGISTICS",
         "status_reason": "OSREPORTREC", "status_date": "2024-05-01T09:00:00+00:00", "quantity": 1,
         "backorder_quantity": 0, "parent_order_line_number": "1"}]}),
    (UNREGISTER, {"id": "carrier_mock"}),
    (REGISTER, {"id": "wms", "url": "https://wms.example/bus", "secret": "s3cr3t",
                "subscribes": ["magento.logistics.warehouse_management.request_shipment"]}),
    (REGISTER, {"id": "wms", "url": "https://wms.example/bus", "secret": None, "version": "4.3.0"}),
]


@pytest.mark.parametrize("method,params", VALID, ids=[f"{m.split('.')[-1]}-{i}" for i, (m, _) in enumerate(VALID)])
def test_hand_made_messages_validate(method, params):
    assert catalog.validate(method, params) == []


BROKEN_HAND_MADE = [
    (SHIPPED, {"request_id": "SR-1"}, "$.params", "needs at least one of `packages` or `items`"),
    (SHIPPED, {"packages": [PACKAGE]}, "$.params.request_id", "is required"),
    (SHIPPED, {"request_id": "SR-1", "items": [{"sku": "TSHIRT"}]}, "$.params.items[0]",
     "`order_line_id` or `order_line_number`"),
    (DECLINED, {"request_id": "SR-1", "items": [ITEM]}, "$.params.items[0]", "must be a string, got an object"),
    (DECLINED, {"request_id": "SR-1", "items": []}, "$.params.items", "at least 1"),
    (DECLINED, {"items": ["101"]}, "$.params.request_id", "is required"),
    (CHANGE_STATUS, {"shipment_request_id": "SR-1", "items": [{"order_line_id": "101"}]},
     "$.params.items[0].status", "is required"),
    (CHANGE_STATUS, {"items": [{"order_line_id": "101", "status": "PICKREADY"}]},
     "$.params.shipment_request_id", "is required"),
    (UNREGISTER, {}, "$.params.id", "is required"),
    (UNREGISTER, {"id": ""}, "$.params.id", "must not be empty"),
    (REGISTER, {"id": "wms", "url": "https://wms.example", "secret": 42}, "$.params.secret",
     "must be a string (or null), got the whole number 42"),
]


@pytest.mark.parametrize("method,params,path,words", BROKEN_HAND_MADE,
                         ids=[f"{b[0].split('.')[-1]}->{b[2]}" for b in BROKEN_HAND_MADE])
def test_broken_hand_made_messages_are_refused(method, params, path, words):
    problems = catalog.validate(method, params)
    assert problems and problems[0].path == path, problems
    assert words in problems[0].message


def test_unknown_fields_are_tolerated():
    params = {"id": "wms", "url": "https://wms.example", "name": "Warehouse", "implements": ["x"]}
    assert catalog.validate(REGISTER, params) == []


# ---------------------------------------------------------------- outbound templates

PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}")


def fill(value, schema):
    """Replace "{{...}}" placeholders with a typed value the schema expects at that spot."""
    schema = schema if isinstance(schema, dict) else {}
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: fill(v, props.get(k, {})) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, schema.get("items", {})) for v in value]
    if isinstance(value, str) and PLACEHOLDER.fullmatch(value):
        types = schema.get("type", [])
        types = [types] if isinstance(types, str) else types
        if "enum" in schema:
            return schema["enum"][0]
        if "number" in types or "integer" in types:
            return 1
        if "boolean" in types:
            return True
        return "x"
    if isinstance(value, str):
        return PLACEHOLDER.sub("x", value)
    return value


@pytest.mark.parametrize("file", template_params())
def test_outbound_templates_fit_the_schemas(file):
    method = file.name.removesuffix(".params-template.json")
    message = catalog.get(method)
    assert message is not None, f"{method} missing from catalog"
    template = json.loads(file.read_text())
    if method == "magento.inventory.source_repository.search":
        # mom-mock's file for this query holds the answer, not the request
        filled = fill(template, message.result_schema)
        errors = list(jsonschema.Draft202012Validator(message.result_schema).iter_errors(filled))
        assert errors == []
        return
    assert message.direction == "from_mom"
    filled = fill(template, message.params_schema)
    assert "{{" not in json.dumps(filled)
    assert catalog.validate(method, filled) == []


def test_template_check_can_fail():
    method = "magento.logistics.warehouse_management.request_shipment"
    message = catalog.get(method)
    template = json.loads((EXAMPLES / f"{method}.params-template.json").read_text())
    filled = fill(template, message.params_schema)
    del filled["request_id"]
    filled["items"][0]["order_line_price"] = "12.00"
    paths = [p.path for p in catalog.validate(method, filled)]
    assert paths == ["$.params.request_id", "$.params.items[0].order_line_price"]


def test_shipping_details_result_schema():
    schema = catalog.get("magento.logistics.carrier_management.request_shipping_details").result_schema
    check = jsonschema.Draft202012Validator(schema)
    good = [{"id": "PKG-1", "carrier": "DHL", "tracking_number": "1Z999",
             "tracking_link": "https://track.example/1Z999", "shipping_label_link": "https://x/l.pdf"}]
    assert list(check.iter_errors(good)) == []
    assert list(check.iter_errors([{"carrier": "DHL"}]))
    assert list(check.iter_errors({"carrier": "DHL"}))


# ---------------------------------------------------------------- suggestions

def test_suggest_finds_wrong_case_and_typos():
    assert catalog.suggest("Magento.Sales.Order_Management.Create")[0] == CREATE
    assert catalog.suggest("MAGENTO.INVENTORY.SOURCE_STOCK_MANAGEMENT.UPDATE")[0] == STOCK
    assert catalog.suggest("magento.sales.order_managment.create")[0] == CREATE
    assert catalog.suggest("magento.logistics.warehouse_management.lines_shiped")[0] == SHIPPED
    assert catalog.suggest("magento.service_bus.remote.registr")[0] == REGISTER
    assert len(catalog.suggest("magento.sales.order_management.create", n=2)) <= 2
    assert catalog.suggest("hello") == []


# ---------------------------------------------------------------- loader errors

GOOD_FILE = {
    "method": "magento.test.thing_management.update", "summary": "s", "kind": "command",
    "delivery": "async", "direction": "to_mom", "sender": "a", "receiver": "b", "objectives": ["1.1"],
    "confidence": "doc", "notes": "", "sources": "x",
    "params_schema": {"$schema": DRAFT, "type": "object", "properties": {}},
}


def write(folder, name, content):
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_loader_reads_a_good_folder(tmp_path):
    write(tmp_path, GOOD_FILE["method"] + ".json", GOOD_FILE)
    loaded = catalog._load(tmp_path)
    assert list(loaded) == [GOOD_FILE["method"]]
    assert loaded[GOOD_FILE["method"]].objectives == ("1.1",)
    assert loaded[GOOD_FILE["method"]].example is None  # `example` is optional in the file


def test_loader_reads_an_example(tmp_path):
    write(tmp_path, GOOD_FILE["method"] + ".json", dict(GOOD_FILE, example={"id": "x"}))
    assert catalog._load(tmp_path, strict=True)[GOOD_FILE["method"]].example == {"id": "x"}


@pytest.mark.parametrize("content,words", [
    ('{"method": "magento.test.thing_management.update",', "not valid JSON"),
    ("[]", "must hold a JSON object"),
    ({k: v for k, v in GOOD_FILE.items() if k not in ("kind", "sources")}, "missing metadata: kind, sources"),
    (dict(GOOD_FILE, kind="notification"), "`kind` is 'notification'"),
    (dict(GOOD_FILE, direction="in"), "`direction`"),
    (dict(GOOD_FILE, summary=""), "`summary` must not be empty"),
    (dict(GOOD_FILE, notes=None), "`notes` must be a string"),
    (dict(GOOD_FILE, method="magento.test.thing_management.updated"), "file name says"),
    (dict(GOOD_FILE, objectives="1.1"), "`objectives`"),
    (dict(GOOD_FILE, params_schema={"type": "objekt"}), "not a valid JSON Schema"),
    (dict(GOOD_FILE, params_schema={"type": "array"}), "\"type\": \"object\""),
    (dict(GOOD_FILE, result_schema=[]), "`result_schema` must be a JSON object"),
    (dict(GOOD_FILE, example=[{"id": "x"}]), "`example` must be a JSON object"),
    (dict(GOOD_FILE, params_schema=dict(GOOD_FILE["params_schema"], required=["id"]), example={}),
     "`example` does not fit `params_schema`"),
], ids=["bad-json", "not-object", "missing", "bad-kind", "bad-direction", "empty-summary", "notes-null",
        "name-mismatch", "objectives-not-list", "bad-schema", "params-not-object", "bad-result",
        "example-not-object", "example-invalid"])
def test_loader_names_the_file_and_the_fault(tmp_path, content, words):
    bad = write(tmp_path, GOOD_FILE["method"] + ".json", content)
    with pytest.raises(catalog.CatalogError) as caught:
        catalog._load(tmp_path, strict=True)
    assert str(bad) in str(caught.value)
    assert words in str(caught.value)


def test_quick_load_still_names_a_schema_that_cannot_compile(tmp_path):
    bad = write(tmp_path, GOOD_FILE["method"] + ".json",
                dict(GOOD_FILE, params_schema={"type": "object", "required": "id"}))
    message = catalog._load(tmp_path)[GOOD_FILE["method"]]  # quick load skips schema checks
    with pytest.raises(catalog.CatalogError, match="cannot be compiled") as caught:
        catalog._compile(message)
    assert str(bad) in str(caught.value)


def test_shipped_catalog_passes_the_strict_check():
    assert sorted(catalog._load(strict=True)) == sorted(REQUIRED)


def test_loader_refuses_a_missing_folder(tmp_path):
    with pytest.raises(catalog.CatalogError, match="not found"):
        catalog._load(tmp_path / "nope")


# ---------------------------------------------------------------- speed

def test_valid_order_takes_the_fast_path(monkeypatch):
    """A valid message is accepted by the compiled check alone; the slow, detailed validator runs
    only to explain a refusal. (Its speed is measured in bench/, not here.)"""
    request = examples.load_example(f"{CREATE}.json")
    params = request["params"]

    def detailed_validator_must_not_run(message):
        raise AssertionError("the detailed validator ran for a valid message")

    monkeypatch.setattr(catalog, "_detailed_validator", detailed_validator_must_not_run)
    assert catalog.validate(CREATE, params) == []
    broken = {"order": {**params["order"], "lines": []}}
    with pytest.raises(AssertionError, match="detailed validator ran"):
        catalog.validate(CREATE, broken)



def test_every_topic_momlab_names_is_in_the_catalog():
    import momlab.topics

    named = [value for name, value in vars(momlab.topics).items() if name.isupper() and not value.endswith(".")]
    named += [momlab.topics.PAYMENTS + op for op in ("validate", "revalidate", "capture", "refund", "cancel")]
    missing = [name for name in named if catalog.get(name) is None]
    assert len(named) > 15 and not missing, f"momlab/topics.py names messages the catalog lacks: {missing}"
