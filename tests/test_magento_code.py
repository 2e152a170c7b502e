"""momlab.magento_code: a Magento module's di.xml, events.xml, extension_attributes.xml and plugin/observer
classes, read with a real XML parser and a PHP token reader, and checked by the framework's rules."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from momlab import magento_code as mc
from momlab.connector import phparray

SUBSCRIBER = "Magento\\InventoryMessageBus\\Handler\\OnAggregateStockUpdatedSubscriber"
REPOSITORY = "Magento\\Sales\\Api\\OrderRepositoryInterface"
HEAD = '<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="{}">'


def di(body: str, schema: str = mc.DI_SCHEMA) -> str:
    return '<?xml version="1.0"?>\n' + HEAD.format(schema) + body + "</config>"


def events(body: str) -> str:
    return HEAD.format(mc.EVENTS_SCHEMA) + body + "</config>"


def levels(findings) -> list[tuple[str, str]]:
    return [(f.level, f.problem) for f in findings]


def errors(findings) -> list[str]:
    return [f.problem for f in findings if f.level == "error"]


def php(body: str, head: str = "namespace Acme\\Tweaks\\Plugin;\n\nuse Magento\\Sales\\Api\\OrderRepositoryInterface;\n") -> str:
    return f"<?php\n{head}\nclass Audit\n{{\n{body}\n}}\n"


# -- the example module -----------------------------------------------------------------------------------------

def test_every_file_of_the_example_module_checks_clean():
    files = mc.EXAMPLE
    assert set(files) == set(mc.ROLES)
    assert mc.check_di_xml(files["etc/di.xml"]) == []
    assert mc.check_events_xml(files["etc/events.xml"]) == []
    assert mc.check_extension_attributes_xml(files["etc/extension_attributes.xml"]) == []
    assert mc.check_plugin(files["Plugin/KeepBack.php"], SUBSCRIBER, "execute") == []
    assert mc.check_plugin(files["Plugin/ShipPriority.php"], REPOSITORY) == []
    assert mc.check_observer(files["Observer/NotifyCustomer.php"]) == []
    ET.fromstring(files["etc/module.xml"])  # well-formed
    assert ("word", "ComponentRegistrar") in mc.tokens(files["registration.php"])


def test_the_example_di_xml_reads_as_its_plugins():
    assert mc.read_di_xml(mc.EXAMPLE["etc/di.xml"]) == [
        mc.DiPlugin(SUBSCRIBER, "acme_keep_back", "Acme\\OmsTweaks\\Plugin\\KeepBack", 10, False),
        mc.DiPlugin(REPOSITORY, "acme_ship_priority", "Acme\\OmsTweaks\\Plugin\\ShipPriority", None, False),
    ]
    frame = mc.table(mc.read_di_xml(mc.EXAMPLE["etc/di.xml"]))
    assert list(frame.columns) == ["type", "name", "plugin", "sort_order", "disabled"]
    assert frame["sort_order"].tolist() == [10, None]


def says(found, *expected: str) -> None:
    """Each expected phrase is in one of the errors found."""
    problems = " | ".join(errors(found))
    missing = [phrase for phrase in expected if phrase not in problems]
    assert not missing, f"no error says {missing}: {problems}"


# -- di.xml -----------------------------------------------------------------------------------------------------

def test_di_xml_problems_are_found_and_named():
    text = di(f'<plugin name="stray" type="A\\B"/>'
              f'<type name="{REPOSITORY}">'
              '<plugin name="acme_a" type="Acme\\A\\Plugin\\One" sortOrder="ten"/>'
              '<plugin name="acme_a" type="Acme\\A\\Plugin\\Two"/>'
              '<plugin type="Acme\\A\\Plugin\\Three"/>'
              '<plugin name="acme_b"/>'
              '<plugin name="acme_c" type="Acme\\A Plugin"/>'
              '<plugin name="acme_d" type="\\Acme\\A\\Plugin\\Four" disabled="maybe"/>'
              '</type>')
    found = mc.check_di_xml(text)
    says(found, "directly under <config>", "sortOrder 'ten'", "'acme_a' is used twice", "needs a name",
         "the plugin class (type) is missing", "is not a PHP class name", "not true or false")
    assert [f.problem for f in found if f.level == "warning"] == ["the plugin class (type) '\\\\Acme\\\\A\\\\Plugin\\\\Four' starts with a backslash."]


def test_a_disabled_plugin_needs_no_class():
    assert mc.check_di_xml(di(f'<type name="{SUBSCRIBER}"><plugin name="vendor_log" disabled="true"/></type>')) == []


def test_di_xml_root_schema_and_namespace():
    assert levels(mc.check_di_xml(di(f'<type name="{REPOSITORY}"><plugin name="a" type="A\\B"/></type>', schema="x.xsd"))) == [
        ("warning", f"xsi:noNamespaceSchemaLocation is 'x.xsd', not '{mc.DI_SCHEMA}'.")]
    assert "Magento reads a <config> root" in " ".join(errors(mc.check_di_xml('<di><type name="A\\B"/></di>')))
    namespaced = '<config xmlns="urn:acme"><type name="A\\B"><plugin name="a" type="C\\D"/></type></config>'
    assert "XML namespace {urn:acme}" in " ".join(errors(mc.check_di_xml(namespaced)))
    assert mc.read_di_xml(namespaced) == []  # Magento would find nothing either


def test_a_class_with_two_type_elements_is_a_warning():
    text = di(f'<type name="{REPOSITORY}"><plugin name="a" type="A\\B"/></type><type name="{REPOSITORY}"><plugin name="b" type="A\\C"/></type>')
    assert levels(mc.check_di_xml(text)) == [("warning", "this class has a second <type> element in the file.")]


def test_xml_that_does_not_parse_is_an_error_with_its_line():
    found = mc.check_di_xml('<?xml version="1.0"?>\n<config>\n  <type name="A\\B">\n</config>')
    assert len(found) == 1 and found[0].level == "error" and found[0].key == "line 4"
    with pytest.raises(mc.XmlReadError) as caught:
        mc.read_di_xml("<config><type></config>")
    assert caught.value.line == 1


def test_a_doctype_is_refused_before_parsing():
    bomb = '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]><config>&lol;</config>'
    with pytest.raises(mc.XmlReadError, match="DOCTYPE"):
        mc.read_di_xml(bomb)
    assert mc.describe_di_xml(bomb) == {"unreadable": "a DOCTYPE is not read here (Magento's configuration files have none)."}


def test_describe_di_xml_ignores_layout_and_order():
    one = di(f'<type name="{REPOSITORY}"><plugin name="b" type="A\\B"/><plugin name="a" type="A\\C" sortOrder="5"/></type>'
             f'<type name="{SUBSCRIBER}"><plugin name="c" disabled="true"/></type>')
    two = di(f'\n  <type name="{SUBSCRIBER}">\n    <plugin disabled="true" name="c" />\n  </type>\n'
             f"  <type name='{REPOSITORY}'>\n    <plugin sortOrder='5' type='A\\C' name='a'/>\n    <plugin type='A\\B' name='b'/>\n  </type>\n")
    assert mc.describe_di_xml(one) == mc.describe_di_xml(two) == {
        "errors": [], "schema": mc.DI_SCHEMA,
        "types": [[SUBSCRIBER, [["c", None, None, True]]], [REPOSITORY, [["a", "A\\C", 5, False], ["b", "A\\B", None, False]]]]}
    assert mc.describe_di_xml(None) == {"unreadable": "give the text of di.xml (a str), not NoneType"}


# -- events.xml and extension_attributes.xml -----------------------------------------------------------------------

def test_events_xml_problems():
    text = events('<observer name="stray" instance="A\\B"/>'
                  '<event name="sales_order_place_after"><observer name="o" instance="A\\B"/><observer name="o" instance="A\\C"/>'
                  '<observer name="p"/><observer name="q" disabled="true"/></event>'
                  '<event name="Sales_Order"><observer name="r" instance="A\\D"/></event>'
                  '<event name="bad name!"/><event/>')
    found = mc.check_events_xml(text)
    says(found, "directly under <config>", "'o' is used twice", "the observer class (instance) is missing",
         "'bad name!' is not an event name", "needs the name of the event")
    assert ("warning", "'Sales_Order' has capitals; Magento's event names are lower case.") in levels(found)
    assert mc.read_events_xml(text)[0] == mc.EventObserver("sales_order_place_after", "o", "A\\B", False)


def test_extension_attributes_problems():
    text = HEAD.format(mc.EXTENSION_SCHEMA) + (
        '<extension_attributes for="Magento\\Sales\\Api\\Data\\OrderInterface">'
        '<attribute code="ship_priority" type="string"/><attribute code="ship_priority" type="int"/>'
        '<attribute code="NoType"/><attribute type="string"/></extension_attributes>'
        '<extension_attributes for="Magento\\Sales\\Model\\Order"><attribute code="x" type="string"/></extension_attributes></config>')
    found = mc.check_extension_attributes_xml(text)
    problems = " | ".join(errors(found))
    assert "declared twice" in problems and "has no type" in problems and "needs a code" in problems
    assert {f.problem for f in found if f.level == "warning"} == {"codes are written in snake_case.",
                                                                   "'Magento\\\\Sales\\\\Model\\\\Order' does not look like a data interface."}


# -- the PHP token reader ------------------------------------------------------------------------------------------

def test_the_class_tokenizer_is_phparrays_own_tokenizer_extended():
    assert issubclass(mc._ClassTokenizer, phparray.Tokenizer)


def test_tokens_skip_comments_and_keep_php_meaning():
    text = ('<?php\n// a comment\n# another\n/* a block */\nnamespace A\\B;\n#[Attr]\n$x = "hi $name" . \'it\\\'s\' ?? 0x1F;\n'
            '$y?->go(...$args);\n?>\n')
    assert mc.tokens(text) == [
        ("open", None), ("word", "namespace"), ("name", "A\\B"), ("punct", ";"), ("punct", "#["), ("word", "Attr"), ("punct", "]"),
        ("variable", "x"), ("punct", "="), ("string", "hi $name"), ("punct", "."), ("string", "it's"), ("punct", "??"),
        ("number", 31), ("punct", ";"), ("variable", "y"), ("punct", "?->"), ("word", "go"), ("punct", "("), ("punct", "..."),
        ("variable", "args"), ("punct", ")"), ("punct", ";"), ("close_tag", None), ("eof", None)]


@pytest.mark.parametrize("text, message", [
    ("class A {}", "no '<?php' opening tag"),
    ("\n<?php class A {}", "starts with '<?php'"),
    ("<?php $a = `ls`;", "backticks"),
    ("<?php $a = 'open;", "never closed"),
    ("<?php /* open", "never closed"),
    ("<?php $a = <<<EOT\nx\nEOT;", "heredoc"),
    ("<?php class A {} ?>\n<p>html</p>", "after '?>'"),
    ("<?php $ = 1;", "variable name"),
])
def test_tokens_refuse_with_a_position(text, message):
    with pytest.raises(mc.PhpReadError, match=re.escape(message)) as caught:
        mc.tokens(text)
    assert caught.value.line >= 1 and caught.value.column >= 1


# -- reading a class -------------------------------------------------------------------------------------------------

CLASS = """<?php
declare(strict_types=1);

namespace Acme\\Tweaks\\Plugin;

use Magento\\Sales\\Api\\OrderRepositoryInterface as Orders;
use Magento\\Framework\\Api;

#[SomeAttribute]
final class Audit extends Base implements \\Countable, Api\\ExtensibleDataInterface
{
    use LoggerTrait;
    private const LIMIT = 3;
    private ?Orders $orders = null;

    public function __construct(private readonly Orders $repository, array $options = [])
    {
    }

    function afterGetList(Orders $subject, ?Api\\SearchResults $result, int|string ...$args): ?Api\\SearchResults
    {
        $filter = function ($item) { return $item; };
        return $result;
    }

    protected static function helper(&$x)
    {
        $y = fn($v) => $v * 2;
    }

    abstract public function later();
}
"""


def test_read_php_class_resolves_names_and_reads_methods():
    cls = mc.read_php_class(CLASS)
    assert (cls.namespace, cls.name, cls.kind, cls.full_name) == ("Acme\\Tweaks\\Plugin", "Audit", "class", "Acme\\Tweaks\\Plugin\\Audit")
    assert cls.extends == "Acme\\Tweaks\\Plugin\\Base"
    assert cls.implements == ["Countable", "Magento\\Framework\\Api\\ExtensibleDataInterface"]
    assert cls.imports == {"Orders": REPOSITORY, "Api": "Magento\\Framework\\Api"}
    assert [m.name for m in cls.methods] == ["__construct", "afterGetList", "helper", "later"]
    after = cls.method("aftergetlist")
    assert after.visibility == "public" and not after.static and after.returns_value
    assert after.params == (mc.Param("subject", REPOSITORY), mc.Param("result", "?Magento\\Framework\\Api\\SearchResults"),
                            mc.Param("args", "int|string", variadic=True))
    assert after.return_type == "?Magento\\Framework\\Api\\SearchResults"
    construct = cls.method("__construct")
    assert construct.params == (mc.Param("repository", REPOSITORY), mc.Param("options", "array", default=True))
    helper = cls.method("helper")
    assert (helper.visibility, helper.static, helper.returns_value) == ("protected", True, False)
    assert "Audit" in cls._repr_html_() and "afterGetList" in cls._repr_html_()


def test_a_return_inside_a_closure_is_not_the_methods():
    cls = mc.read_php_class(php("public function afterSave($subject, $result) { array_map(function ($x) { return $x; }, []); }"))
    assert cls.methods[0].returns_value is False


@pytest.mark.parametrize("text, message", [
    ("<?php\n$a = 1;\n", "declares no class"),
    ("<?php\nnamespace A { class B {} }\n", "namespace as one line"),
    ("<?php\nuse A\\{B, C};\nclass D {}\n", "group use"),
    ("<?php\nclass A { public function f( { } }\n", "never closed"),
    ("<?php\nclass A { public function f($a, int) {} }\n", "variable name"),
    ("<?php\nclass A { 42; }\n", "in the class body"),
])
def test_read_php_class_refuses_what_it_cannot_read(text, message):
    with pytest.raises(mc.PhpReadError, match=message):
        mc.read_php_class(text)


# -- plugins and observers ---------------------------------------------------------------------------------------------

def test_plugin_kind_follows_magentos_naming_rule():
    assert mc.plugin_kind("beforeSave") == ("before", "save")
    assert mc.plugin_kind("aroundGetList") == ("around", "getList")
    assert mc.plugin_kind("afterGetById") == ("after", "getById")
    assert mc.plugin_kind("execute") is None and mc.plugin_kind("after") is None


def test_a_correct_plugin_has_no_findings():
    text = php("    public function beforeSave(OrderRepositoryInterface $subject, ...$args) { return null; }\n"
               "    public function afterSave(\\Magento\\Sales\\Api\\OrderRepositoryInterface $subject, $result) { return $result; }\n"
               "    public function aroundSave(OrderRepositoryInterface $subject, callable $next, ...$args)\n"
               "    { return call_user_func_array($next, $args); }")
    assert mc.check_plugin(text, REPOSITORY, "save") == []


def test_plugin_mistakes_are_errors():
    text = php("    private function beforeSav(OrderRepositoryInterface $subject) {}\n"
               "    public function afterSave(\\Magento\\Catalog\\Model\\Product $subject, $result) { $result; }\n"
               "    public function aroundSave(OrderRepositoryInterface $subject, callable $proceed) { return null; }\n"
               "    public function afterGet() { return 1; }")
    problems = errors(mc.check_plugin(text, REPOSITORY, "save"))
    assert problems == [
        "beforeSav plugs a method called 'sav', not 'save'.",
        "the method is private; Magento calls plugin methods from outside the class.",
        f"$subject is typed Magento\\Catalog\\Model\\Product, but the plugged class is {REPOSITORY}: PHP would raise a TypeError.",
        "the after method returns nothing: the caller of save() would get null.",
        "$proceed is never called: the original method (and the plugins after this one) never run.",
        "afterGet plugs a method called 'get', not 'save'.",
        "a after method takes ($subject, $result, ...); this one has 0 parameter(s).",
    ]


def test_plugin_warnings_and_class_level_errors():
    text = "<?php\nuse Vendor\\Erp\\Audit;\nclass Audit { public static function aroundRun($subject, $proceed) { return $proceed(); } }\n"
    found = mc.check_plugin(text, "Vendor\\Erp\\Audit", "run")
    assert errors(found)[0].startswith("the class has no namespace")
    assert "already in use" in errors(found)[1]
    assert [f.problem for f in found if f.level == "warning"] == [
        "the method is static; plugin methods are instance methods.", "$subject has no type.", "$proceed is not typed callable."]
    assert errors(mc.check_plugin("<?php\nnamespace A;\nclass B { public function run() {} }\n"))[0].startswith("no method is named before")
    assert mc.check_plugin("<?php class {")[0].key.startswith("line ")


def test_describe_plugin_is_the_same_for_equivalent_sources():
    compact = php("public function aroundExecute(OrderRepositoryInterface $s, callable $p, ...$a){return $p(...$a);}")
    spread = ("<?php\n/** A plugin. */\nnamespace Acme\\Tweaks\\Plugin;\n\nclass Audit\n{\n    // wraps execute\n"
              "    public function aroundExecute(\n        \\Magento\\Sales\\Api\\OrderRepositoryInterface $subject,\n"
              "        callable $proceed,\n        ...$args\n    ) {\n        $out = $proceed(...$args);\n        return $out;\n    }\n}\n")
    assert mc.describe_plugin(compact, REPOSITORY, "execute") == mc.describe_plugin(spread, REPOSITORY, "execute") == {
        "namespace": "Acme\\Tweaks\\Plugin", "class": "Audit", "errors": [],
        "methods": {"aroundExecute": {"kind": "around", "wraps": "execute", "public": True, "static": False, "subject type": REPOSITORY,
                                      "proceed": {"callable": True, "called": True}, "returns a value": True}}}
    assert "unreadable" in mc.describe_plugin("not php")
    assert "unreadable" in mc.describe_plugin(None)


def test_observer_checks():
    good = mc.EXAMPLE["Observer/NotifyCustomer.php"]
    assert mc.check_observer(good) == []
    no_interface = good.replace(" implements ObserverInterface", "")
    assert errors(mc.check_observer(no_interface)) == ["the class does not implement Magento\\Framework\\Event\\ObserverInterface."]
    two_params = good.replace("execute(Observer $observer)", "execute(Observer $observer, $more)")
    assert errors(mc.check_observer(two_params)) == ["execute must be public and take one parameter, the Observer."]
    wrong_type = good.replace("execute(Observer $observer)", "execute(\\Magento\\Framework\\DataObject $observer)")
    assert "not Magento\\Framework\\Event\\Observer" in errors(mc.check_observer(wrong_type))[0]
    no_execute = good.replace("function execute(", "function run(")
    assert errors(mc.check_observer(no_execute))[0].startswith("there is no execute() method")


# -- the picture ---------------------------------------------------------------------------------------------------------

def test_interception_is_an_svg_naming_the_plugin_methods():
    picture = mc.interception("getList", kinds=("around",))
    svg = picture._repr_svg_()
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    ET.fromstring(svg)  # well-formed
    for name in ("beforeGetList()", "aroundGetList()", "afterGetList()", "getList()", "$proceed(...$args)"):
        assert name in svg
    assert svg.count("(not in this plugin: skipped)") == 2
    assert "(not in this plugin: skipped)" not in mc.interception("save").svg
