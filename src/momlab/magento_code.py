"""Read and check the files of a Magento module that customises the connector (lab 08, objective 8.1).

A merchant changes what the connector does with a Magento module of their own. Its files, and what
this module reads in them:

    etc/di.xml                      plugins: <type name="Class"><plugin name=".." type="PluginClass"/></type>
    etc/events.xml                  observers: <event name="event"><observer name=".." instance="Class"/></event>
    etc/extension_attributes.xml    extension attributes: <extension_attributes for="Interface"><attribute .../>
    Plugin/*.php, Observer/*.php    the PHP classes those files name

    read_di_xml(text)       -> [DiPlugin]           check_di_xml(text)       -> [Finding]
    read_events_xml(text)   -> [EventObserver]      check_events_xml(text)   -> [Finding]
    read_extension_attributes_xml(text) -> [ExtensionAttribute]     check_extension_attributes_xml(text)
    read_php_class(text)    -> PhpClass (namespace, name, imports, methods with their parameters)
    table(items)            what the readers and checkers return, as a DataFrame
    check_plugin(text, target, method) -> [Finding]    check_observer(text) -> [Finding]
    describe_di_xml / describe_events_xml / describe_plugin: the same as plain data (what graders compare)
    interception(method)    a picture of a plugged call: before, around (proceed), the method, after
    EXAMPLE                 the files of a small example module, Acme_OmsTweaks

XML is read with Python's XML parser (xml.etree.ElementTree); a DOCTYPE is refused. PHP is read by a
token reader built on momlab.connector.phparray's tokenizer (its strings, numbers, comments and error
positions): nothing is ever run. The rules checked are the Magento framework's (general Magento knowledge
the exam assumes, not a MOM source); which classes and events of the connector exist is MOM's business:
the reference names one handler class, Magento\\InventoryMessageBus\\Handler\\OnAggregateStockUpdatedSubscriber.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from momlab.connector import phparray
from momlab.connector.envphp import Finding
from momlab.connector.phparray import PhpReadError

__all__ = [
    "DI_SCHEMA", "EVENTS_SCHEMA", "EXAMPLE", "EXTENSION_SCHEMA", "ROLES", "DiPlugin", "EventObserver", "ExtensionAttribute",
    "Finding", "Method", "Param", "PhpClass", "PhpReadError", "XmlReadError", "check_di_xml", "check_events_xml",
    "check_extension_attributes_xml", "check_observer", "check_plugin", "describe_di_xml", "describe_events_xml",
    "describe_plugin", "interception", "plugin_kind", "read_di_xml", "read_events_xml", "read_extension_attributes_xml",
    "read_php_class", "table", "tokens",
]

DI_SCHEMA = "urn:magento:framework:ObjectManager/etc/config.xsd"
EVENTS_SCHEMA = "urn:magento:framework:Event/etc/events.xsd"
EXTENSION_SCHEMA = "urn:magento:framework:Api/etc/extension_attributes.xsd"
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation"
_CLASS = re.compile(r"\\?[A-Za-z_][A-Za-z0-9_]*(?:\\[A-Za-z_][A-Za-z0-9_]*)*\Z")
_PLUGIN_METHOD = re.compile(r"(before|after|around)(\w+)\Z")
OBSERVER_INTERFACE = "Magento\\Framework\\Event\\ObserverInterface"
OBSERVER_CLASS = "Magento\\Framework\\Event\\Observer"


class XmlReadError(ValueError):
    """The text is not well-formed XML (or has a DOCTYPE): `line` and `column` count from 1."""

    def __init__(self, reason: str, line: int = 1, column: int = 1, name: str = "di.xml"):
        self.reason, self.line, self.column, self.name = reason, line, column, name
        super().__init__(f"{name} line {line}, column {column}: {reason}")


# -- XML files -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiPlugin:
    """One <plugin> of a di.xml: `type` is the plugged class (its <type name>), `plugin` the plugin class."""

    type: str
    name: str
    plugin: str | None
    sort_order: int | None = None
    disabled: bool = False


@dataclass(frozen=True)
class EventObserver:
    """One <observer> of an events.xml, under its <event name>."""

    event: str
    name: str
    instance: str | None
    disabled: bool = False


@dataclass(frozen=True)
class ExtensionAttribute:
    """One <attribute> of an extension_attributes.xml: `for_` is the data interface it extends."""

    for_: str
    code: str
    type: str | None


def _root(text: str | bytes, name: str) -> ET.Element:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        raise TypeError(f"give the text of {name} (a str), not {type(text).__name__}")
    if re.search(r"<!DOCTYPE", text, re.IGNORECASE):
        raise XmlReadError("a DOCTYPE is not read here (Magento's configuration files have none).", name=name)
    try:
        return ET.fromstring(text.lstrip("\ufeff"))
    except ET.ParseError as error:
        line, column = error.position
        raise XmlReadError(f"not well-formed XML: {str(error).split(':')[0]}.", line, column + 1, name) from None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def read_di_xml(text: str | bytes) -> list[DiPlugin]:
    """The plugins an etc/di.xml declares, in file order (raises XmlReadError if it is not XML)."""
    root = _root(text, "di.xml")
    return [DiPlugin(t.get("name", ""), p.get("name", ""), p.get("type"), _int(p.get("sortOrder")), _flag(p.get("disabled")))
            for t in root.findall("type") for p in t.findall("plugin")]


def read_events_xml(text: str | bytes) -> list[EventObserver]:
    """The observers an etc/events.xml declares, in file order."""
    root = _root(text, "events.xml")
    return [EventObserver(e.get("name", ""), o.get("name", ""), o.get("instance"), _flag(o.get("disabled")))
            for e in root.findall("event") for o in e.findall("observer")]


def read_extension_attributes_xml(text: str | bytes) -> list[ExtensionAttribute]:
    """The attributes an etc/extension_attributes.xml adds, in file order."""
    root = _root(text, "extension_attributes.xml")
    return [ExtensionAttribute(x.get("for", ""), a.get("code", ""), a.get("type"))
            for x in root.findall("extension_attributes") for a in x.findall("attribute")]


def _config_findings(root: ET.Element, file: str, schema: str) -> list[Finding]:
    out = []
    namespaced = sorted({e.tag.split("}")[0] + "}" for e in root.iter() if isinstance(e.tag, str) and e.tag.startswith("{")})
    if namespaced:
        out.append(Finding("error", "xmlns", f"elements are in the XML namespace {namespaced[0]}: Magento's configuration files "
                                             "put none on their elements, so none of them would be found.",
                           "Remove the xmlns=... attribute (keep xmlns:xsi for the schema location).", file))
    if root.tag != "config":
        out.append(Finding("error", root.tag, f"the root element is <{root.tag}>; Magento reads a <config> root.",
                           "Wrap the declarations in <config>...</config>.", file))
    if root.get(_XSI) != schema:
        out.append(Finding("warning", "config", f"xsi:noNamespaceSchemaLocation is {root.get(_XSI)!r}, not {schema!r}.",
                           f'Write <config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="{schema}">.', file))
    return out


def _class_findings(value: str | None, where: str, what: str, file: str) -> list[Finding]:
    if not value:
        return [Finding("error", where, f"{what} is missing.", f"Give {what}: a full class name such as Vendor\\Module\\Plugin\\Name.", file)]
    if not _CLASS.match(value.strip()):
        return [Finding("error", where, f"{what} {value!r} is not a PHP class name.",
                        "Write the full class name: identifiers separated by single backslashes, no spaces.", file)]
    if value.startswith("\\"):
        return [Finding("warning", where, f"{what} {value!r} starts with a backslash.",
                        "Magento's own files write full class names without the leading backslash.", file)]
    return []


def _unreadable(error: XmlReadError, file: str) -> list[Finding]:
    return [Finding("error", f"line {error.line}", error.reason, "Fix the XML so that it parses.", file)]


def check_di_xml(text: str | bytes) -> list[Finding]:
    """What is wrong in an etc/di.xml's plugin declarations: errors (Magento would refuse the file or the
    plugin would never run) and warnings (it works; look again). An empty list: nothing found."""
    file = "etc/di.xml"
    try:
        root = _root(text, "di.xml")
    except XmlReadError as error:
        return _unreadable(error, file)
    out = _config_findings(root, file, DI_SCHEMA)
    for stray in root.findall("plugin"):
        out.append(Finding("error", f"plugin {stray.get('name')!r}", "a <plugin> directly under <config> plugs nothing.",
                           'Put it inside the <type name="..."> of the class it wraps.', file))
    seen_types: set[str] = set()
    for n, type_ in enumerate(root.findall("type"), 1):
        name = type_.get("name")
        where = f"type[{n}]" if not name else f"type {name}"
        out += _class_findings(name, where, "the plugged class (<type name>)", file)
        if name in seen_types:
            out.append(Finding("warning", where, "this class has a second <type> element in the file.",
                               "Keep one <type> per class and put all its plugins in it.", file))
        seen_types.add(name or "")
        for plugin, pwhere in _named(type_.findall("plugin"), where, "class", "e.g. vendor_module_what", file, out):
            if _flag(plugin.get("disabled")):
                if plugin.get("type"):
                    out += _class_findings(plugin.get("type"), pwhere, "the plugin class (type)", file)
            else:
                out += _class_findings(plugin.get("type"), pwhere, "the plugin class (type)", file)
            if plugin.get("sortOrder") is not None and _int(plugin.get("sortOrder")) is None:
                out.append(Finding("error", pwhere, f"sortOrder {plugin.get('sortOrder')!r} is not a whole number.",
                                   'Write sortOrder="10" (lower numbers run first).', file))
            if plugin.get("disabled") is not None and plugin.get("disabled", "").strip().lower() not in ("true", "false"):
                out.append(Finding("error", pwhere, f"disabled {plugin.get('disabled')!r} is not true or false.", 'Write disabled="true".', file))
    if not root.findall("type") and root.tag == "config":
        out.append(Finding("warning", "config", "the file declares no <type> with plugins.", "Add <type name=...><plugin .../></type>.", file))
    return out


def _named(elements, where: str, scope: str, example: str, file: str, out: list[Finding]):
    """Each element with the place to name it in a finding; a missing or repeated name is itself a finding
    (di.xml's plugins per class, events.xml's observers per event: a name identifies the declaration)."""
    seen: set[str] = set()
    for k, element in enumerate(elements, 1):
        tag, name = element.tag, element.get("name")
        here = f"{where} / {tag} {name!r}" if name else f"{where} / {tag}[{k}]"
        if not name:
            out.append(Finding("error", here, f"{'an' if tag[0] in 'aeiou' else 'a'} <{tag}> needs a name.",
                               f"Give it a name unique for this {scope}, {example}.", file))
        elif name in seen:
            out.append(Finding("error", here, f"the {tag} name {name!r} is used twice for this {scope}.",
                               f"Declare each {tag} name once per {scope}.", file))
        seen.add(name or "")
        yield element, here


def check_events_xml(text: str | bytes) -> list[Finding]:
    """What is wrong in an etc/events.xml (see check_di_xml for the levels)."""
    file = "etc/events.xml"
    try:
        root = _root(text, "events.xml")
    except XmlReadError as error:
        return _unreadable(error, file)
    out = _config_findings(root, file, EVENTS_SCHEMA)
    for stray in root.findall("observer"):
        out.append(Finding("error", f"observer {stray.get('name')!r}", "an <observer> directly under <config> observes nothing.",
                           'Put it inside the <event name="..."> it reacts to.', file))
    for n, event in enumerate(root.findall("event"), 1):
        name = event.get("name")
        where = f"event {name}" if name else f"event[{n}]"
        if not name:
            out.append(Finding("error", where, "an <event> needs the name of the event.", 'Write <event name="sales_order_place_after">.', file))
        elif not re.fullmatch(r"[A-Za-z0-9_]+", name):
            out.append(Finding("error", where, f"{name!r} is not an event name (letters, digits and underscores).", "Use the event's exact name.", file))
        elif name != name.lower():
            out.append(Finding("warning", where, f"{name!r} has capitals; Magento's event names are lower case.", "Write the name in lower case.", file))
        for observer, owhere in _named(event.findall("observer"), where, "event", "e.g. vendor_module_what", file, out):
            if not _flag(observer.get("disabled")) or observer.get("instance"):
                out += _class_findings(observer.get("instance"), owhere, "the observer class (instance)", file)
    return out


def check_extension_attributes_xml(text: str | bytes) -> list[Finding]:
    """What is wrong in an etc/extension_attributes.xml (see check_di_xml for the levels)."""
    file = "etc/extension_attributes.xml"
    try:
        root = _root(text, "extension_attributes.xml")
    except XmlReadError as error:
        return _unreadable(error, file)
    out = _config_findings(root, file, EXTENSION_SCHEMA)
    for n, block in enumerate(root.findall("extension_attributes"), 1):
        target = block.get("for")
        where = f"extension_attributes for {target}" if target else f"extension_attributes[{n}]"
        out += _class_findings(target, where, "the extended interface (for)", file)
        if target and not target.endswith("Interface"):
            out.append(Finding("warning", where, f"{target!r} does not look like a data interface.",
                               "Extension attributes extend a data interface, e.g. Magento\\Sales\\Api\\Data\\OrderInterface.", file))
        codes: set[str] = set()
        for attribute in block.findall("attribute"):
            code = attribute.get("code")
            if not code:
                out.append(Finding("error", where, "an <attribute> needs a code.", 'Write <attribute code="ship_priority" type="string"/>.', file))
                continue
            if code in codes:
                out.append(Finding("error", f"{where} / {code}", "this code is declared twice.", "Declare each code once.", file))
            codes.add(code)
            if not attribute.get("type"):
                out.append(Finding("error", f"{where} / {code}", "the attribute has no type.", 'Give a type: "string", "int", or a class or interface name.', file))
            if not re.fullmatch(r"[a-z][a-z0-9_]*", code):
                out.append(Finding("warning", f"{where} / {code}", "codes are written in snake_case.",
                                   "Magento derives getShipPriority()/setShipPriority() from ship_priority.", file))
    return out


def table(items):
    """A list of what the readers and checkers return (DiPlugin, EventObserver, ExtensionAttribute, Finding)
    as a pandas DataFrame, one row each, values as they are (a missing sortOrder stays None)."""
    import pandas as pd

    rows = [{key.rstrip("_"): value for key, value in vars(item).items()} for item in items]  # for_ shows as "for"
    return pd.DataFrame(rows, dtype=object)


def _errors(findings: list[Finding]) -> list[str]:
    return [f"{f.key}: {f.problem}" for f in findings if f.level == "error"]


def describe_di_xml(text: str | bytes) -> dict:
    """A di.xml as plain data, independent of layout and order: its errors, its schema location, and per
    plugged class (sorted) its plugins as [name, plugin class, sortOrder, disabled] (sorted by name)."""
    try:
        root = _root(text, "di.xml")
    except XmlReadError as error:
        return {"unreadable": error.reason}
    except TypeError as error:
        return {"unreadable": str(error)}
    by_type: dict[str, list] = {}
    for p in read_di_xml(text):
        by_type.setdefault(p.type, []).append([p.name, p.plugin, p.sort_order, p.disabled])
    return {"errors": _errors(check_di_xml(text)), "schema": root.get(_XSI),
            "types": [[name, sorted(plugins, key=str)] for name, plugins in sorted(by_type.items())]}


def describe_events_xml(text: str | bytes) -> dict:
    """An events.xml as plain data: its errors, schema location, and per event (sorted) its observers as
    [name, instance, disabled] (sorted by name)."""
    try:
        root = _root(text, "events.xml")
    except XmlReadError as error:
        return {"unreadable": error.reason}
    except TypeError as error:
        return {"unreadable": str(error)}
    by_event: dict[str, list] = {}
    for o in read_events_xml(text):
        by_event.setdefault(o.event, []).append([o.name, o.instance, o.disabled])
    return {"errors": _errors(check_events_xml(text)), "schema": root.get(_XSI),
            "events": [[name, sorted(observers, key=str)] for name, observers in sorted(by_event.items())]}


# -- PHP classes -----------------------------------------------------------------------------------------

_PUNCT = ("<<=", ">>=", "**=", "...", "<=>", "===", "!==", "??=", "?->", "->", "::", "=>", "==", "!=", "<>", "<=", ">=",
          "&&", "||", "??", "++", "--", "+=", "-=", "*=", "/=", ".=", "%=", "&=", "|=", "^=", "<<", ">>", "**")
_SINGLE = set(";,(){}[]=+-*/%.<>!&|^~?:@")
_QUALIFIED = re.compile(r"\\?[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*(?:\\[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)*")
_BUILTIN_TYPES = {"array", "bool", "callable", "false", "float", "int", "iterable", "mixed", "never", "null", "object", "parent",
                  "self", "static", "string", "true", "void"}


class _ClassTokenizer(phparray.Tokenizer):
    """momlab.connector.phparray's tokenizer, taught the rest of a class file: variables, qualified names,
    operators, braces and PHP 8 attributes. Its quoted strings, numbers, comments and error positions are
    phparray's own; a double-quoted string may hold variables here (they are kept as text, never run)."""

    attributes = True

    def tokens(self) -> list[phparray.Token]:
        text = self.text
        if not re.match(r"<\?php(?:\s|\Z)", text[:6], re.IGNORECASE):
            where = text.find("<?php")
            self.fail("a PHP class file starts with '<?php' (nothing before it, not even a blank line)."
                      if where > 0 else "there is no '<?php' opening tag at the start of the file.", 0)
        self.out.append(phparray.Token("open", None, 0))
        self.pos = 5
        while True:
            self._skip_space_and_comments()
            if self.pos >= len(text):
                self.out.append(phparray.Token("eof", None, self.pos))
                return self.out
            start, char = self.pos, text[self.pos]
            if text.startswith("?>", self.pos):
                if text[self.pos + 2:].strip():
                    self.fail("text after '?>' is sent to the browser as output; a class file leaves '?>' out.", self.pos)
                self.out.append(phparray.Token("close_tag", None, start))
                self.pos = len(text)
            elif text.startswith("#[", self.pos):
                self.out.append(phparray.Token("punct", "#[", start))
                self.pos += 2
            elif char == "$":
                word = phparray.WORD.match(text, self.pos + 1)
                if not word:
                    self.fail("'$' must start a variable name, e.g. $subject.")
                self.out.append(phparray.Token("variable", word.group(0), start))
                self.pos = word.end()
            elif char == "'":
                self.out.append(phparray.Token("string", self._quoted("'", phparray.SINGLE_RUN, self._single_special), start))
            elif char == '"':
                self.out.append(phparray.Token("string", self._quoted('"', phparray.DOUBLE_RUN, self._double_special), start))
            elif char.isdigit() or (char == "." and text[self.pos + 1:self.pos + 2].isdigit()):
                self.out.append(phparray.Token("number", self._number(), start))
            elif char == "\\" or phparray.WORD.match(text, self.pos):
                name = _QUALIFIED.match(text, self.pos)
                if not name:
                    if text.startswith("\\{", self.pos):
                        self.fail("group use (use A\\{B, C}) is not read here: write one class per use line.")
                    self.fail("a backslash must be followed by a name (Vendor\\Module\\Class).")
                value = name.group(0)
                if text.startswith("\\{", name.end()):
                    self.fail("group use (use A\\{B, C}) is not read here: write one class per use line.", name.end())
                self.out.append(phparray.Token("name" if "\\" in value else "word", value, start))
                self.pos = name.end()
            elif char == "`":
                self.fail("backticks run a shell command in PHP; a plugin or observer never needs them.")
            elif text.startswith("<<<", self.pos):
                self.fail("heredoc/nowdoc strings ('<<<') are not read here; write a quoted string.")
            else:
                op = next((p for p in _PUNCT if text.startswith(p, self.pos)), char if char in _SINGLE else None)
                if op is None:
                    self.fail(f"unexpected character {char!r}.")
                self.out.append(phparray.Token("punct", op, start))
                self.pos += len(op)

    def _double_special(self, out: list[str]) -> None:
        if self.text[self.pos] in "${":  # interpolation: kept as text here, since nothing is ever run
            out.append(self.text[self.pos])
            self.pos += 1
        else:
            super()._double_special(out)


def tokens(text: str) -> list[tuple[str, object]]:
    """The PHP tokens of a class file as (kind, value): word, name (qualified, with backslashes), variable
    (without '$'), string, number, punct; comments and white space are skipped. Raises PhpReadError."""
    return [(t.kind, t.value) for t in _tokens(text, "class file")]


def _tokens(text: str, name: str) -> list[phparray.Token]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        raise TypeError(f"give the text of the PHP file (a str), not {type(text).__name__}")
    if len(text) > phparray.MAX_BYTES:
        raise PhpReadError("the file is too large for a class file.", 1, 1, name=name)
    return _ClassTokenizer(text.lstrip("\ufeff"), name).tokens()


@dataclass(frozen=True)
class Param:
    """A method parameter: `type` is resolved to a full class name (or a built-in type such as 'callable')."""

    name: str
    type: str | None
    variadic: bool = False
    default: bool = False


@dataclass(frozen=True)
class Method:
    name: str
    visibility: str
    static: bool
    params: tuple[Param, ...]
    return_type: str | None
    called: frozenset[str] = frozenset()  # variables called as functions in the body ($proceed(...))
    returns_value: bool = False  # a `return <something>;` in the body (not counting nested closures)
    line: int = 0


@dataclass
class PhpClass:
    """What read_php_class found in a class file."""

    namespace: str
    name: str
    kind: str  # class, interface, trait
    extends: str | None
    implements: list[str]
    imports: dict[str, str] = field(default_factory=dict)  # alias -> full name, from `use` lines
    methods: list[Method] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.namespace}\\{self.name}" if self.namespace else self.name

    def method(self, name: str) -> Method | None:
        return next((m for m in self.methods if m.name.lower() == name.lower()), None)

    def resolve(self, name: str) -> str:
        """A class name as written in this file, as a full name (PHP's rules: leading backslash, `use`, namespace)."""
        return _resolve(name, self.namespace, self.imports)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td style='text-align:left'><code>{html.escape(m.visibility)}{' static' if m.static else ''} function "
                       f"{html.escape(m.name)}({html.escape(', '.join(_param_text(p) for p in m.params))})</code></td></tr>"
                       for m in self.methods)
        bases = "".join(f" {word} {html.escape(', '.join(names))}" for word, names in
                        (("extends", [self.extends] if self.extends else []), ("implements", self.implements)) if names)
        return (f"<div><b>{self.kind} {html.escape(self.full_name)}</b>{bases}<br>methods, with their parameters' types "
                f"resolved to full names:<table>{rows}</table></div>")


def _param_text(p: Param) -> str:
    return f"{p.type + ' ' if p.type else ''}{'...' if p.variadic else ''}${p.name}"


def _resolve(name: str, namespace: str, imports: dict[str, str]) -> str:
    if name.startswith("\\"):
        return name[1:]
    if name.lower() in _BUILTIN_TYPES:
        return name.lower()
    first, _, rest = name.partition("\\")
    if first.lower() in {a.lower() for a in imports}:
        full = next(v for a, v in imports.items() if a.lower() == first.lower())
        return f"{full}\\{rest}" if rest else full
    return f"{namespace}\\{name}" if namespace else name


class _ClassReader:
    def __init__(self, text: str, toks: list[phparray.Token]):
        self.text, self.toks, self.i = text, toks, 0

    @property
    def tok(self) -> phparray.Token:
        return self.toks[self.i]

    def at(self, kind: str, value: object = None, offset: int = 0) -> bool:
        token = self.toks[min(self.i + offset, len(self.toks) - 1)]
        if token.kind != kind:
            return False
        if value is None:
            return True
        if kind == "word" and isinstance(token.value, str) and isinstance(value, str):
            return token.value.lower() == value
        return token.value == value

    def fail(self, reason: str, token: phparray.Token | None = None):
        offset = (token or self.tok).offset
        line, column = phparray.position(self.text, offset)
        raise PhpReadError(reason, line, column, phparray.excerpt(self.text, offset), "class file")

    def skip_to(self, *values: str) -> None:
        """Move past the next of `values` (punct) at this bracket depth."""
        depth = 0
        while not self.at("eof"):
            token = self.toks[self.i]
            self.i += 1
            if token.kind == "punct":
                if token.value in ("(", "[", "{", "#["):
                    depth += 1
                elif token.value in (")", "]", "}"):
                    depth -= 1
                    if depth < 0:
                        self.i -= 1
                        return
                elif token.value in values and depth == 0:
                    return
        self.fail(f"expected {' or '.join(values)!r} before the end of the file.")

    def block(self) -> list[phparray.Token]:
        """The tokens inside the brace block that starts here (the braces themselves left out)."""
        if not self.at("punct", "{"):
            self.fail("expected '{'.")
        start, depth = self.i, 0
        while True:
            if self.at("eof"):
                self.fail("this '{' is never closed with '}'.", self.toks[start])
            token = self.toks[self.i]
            self.i += 1
            if token.kind == "punct" and token.value in ("{",):
                depth += 1
            elif token.kind == "punct" and token.value == "}":
                depth -= 1
                if depth == 0:
                    return self.toks[start + 1:self.i - 1]

    def read(self) -> PhpClass:
        namespace, imports = "", {}
        while not self.at("eof"):
            if self.at("word", "namespace") and self.toks[self.i + 1].kind in ("name", "word"):
                self.i += 1
                namespace = str(self.tok.value).lstrip("\\")
                self.i += 1
                if not self.at("punct", ";"):
                    self.fail("write the namespace as one line ending in ';' (namespace Vendor\\Module\\Plugin;).")
                self.i += 1
            elif self.at("word", "use"):
                self.i += 1
                imports.update(self.use_list())
            elif self.at("word", "declare"):
                self.skip_to(";")
            elif (self.at("word", "class") or self.at("word", "interface") or self.at("word", "trait")) and self.at("word", None, 1):
                return self.class_(namespace, imports)
            elif self.at("punct", "#["):
                self.i += 1
                self.skip_to("]")
            else:
                self.i += 1
        self.fail("the file declares no class.")
        raise AssertionError  # fail raises

    def use_list(self) -> dict[str, str]:
        out = {}
        if self.at("word", "function") or self.at("word", "const"):
            self.skip_to(";")
            return out
        while True:
            if not (self.at("name") or self.at("word")):
                self.fail("expected a class name after 'use'.")
            full = str(self.tok.value).lstrip("\\")
            self.i += 1
            alias = full.rsplit("\\", 1)[-1]
            if self.at("word", "as"):
                self.i += 1
                alias = str(self.tok.value)
                self.i += 1
            out[alias] = full
            if self.at("punct", ","):
                self.i += 1
                continue
            if not self.at("punct", ";"):
                self.fail("expected ';' at the end of the use line.")
            self.i += 1
            return out

    def class_(self, namespace: str, imports: dict[str, str]) -> PhpClass:
        kind = str(self.tok.value).lower()
        self.i += 1
        name = str(self.tok.value)
        self.i += 1
        extends, implements = None, []
        while not self.at("punct", "{"):
            if self.at("eof"):
                self.fail(f"the {kind} {name} has no body '{{'.")
            if self.at("word", "extends"):
                self.i += 1
                extends = _resolve(str(self.tok.value), namespace, imports)
                self.i += 1
                while kind == "interface" and self.at("punct", ","):
                    self.i += 2
            elif self.at("word", "implements"):
                self.i += 1
                while True:
                    implements.append(_resolve(str(self.tok.value), namespace, imports))
                    self.i += 1
                    if not self.at("punct", ","):
                        break
                    self.i += 1
            else:
                self.fail(f"unexpected {self.tok.value!r} in the {kind} line.")
        body = self.block()
        cls = PhpClass(namespace, name, kind, extends, implements, dict(imports))
        cls.methods = _ClassReader(self.text, [*body, self.toks[-1]]).members(namespace, imports)
        return cls

    def members(self, namespace: str, imports: dict[str, str]) -> list[Method]:
        methods = []
        modifiers: list[str] = []
        while not self.at("eof"):
            if self.at("punct", "#["):
                self.i += 1
                self.skip_to("]")
            elif self.tok.kind == "word" and str(self.tok.value).lower() in ("public", "protected", "private", "static", "final",
                                                                               "abstract", "readonly", "var"):
                modifiers.append(str(self.tok.value).lower())
                self.i += 1
            elif self.at("word", "function"):
                methods.append(self.method(modifiers, namespace, imports))
                modifiers = []
            elif self.at("word", "use") or self.at("word", "const") or self.at("word", "case") or modifiers:
                self.skip_to(";")
                modifiers = []
            else:
                self.fail(f"unexpected {self.tok.value!r} in the class body.")
        return methods

    def method(self, modifiers: list[str], namespace: str, imports: dict[str, str]) -> Method:
        start = self.tok
        self.i += 1
        if self.at("punct", "&"):
            self.i += 1
        if self.tok.kind != "word":
            self.fail("expected the method's name after 'function'.")
        name = str(self.tok.value)
        self.i += 1
        if not self.at("punct", "("):
            self.fail(f"expected '(' after function {name}.")
        params = self.params(namespace, imports)
        return_type = None
        if self.at("punct", ":"):
            self.i += 1
            parts = []
            while not (self.at("punct", "{") or self.at("punct", ";") or self.at("eof")):
                parts.append(str(self.tok.value))
                self.i += 1
            return_type = "".join(_resolve(p, namespace, imports) if p not in "?|&()" else p for p in parts)
        body: list[phparray.Token] = []
        if self.at("punct", "{"):
            body = self.block()
        elif self.at("punct", ";"):
            self.i += 1
        else:
            self.fail(f"expected the body of {name} ('{{').")
        visibility = next((m for m in modifiers if m in ("public", "protected", "private")), "public")
        called, returns = _body_facts(body)
        line, _ = phparray.position(self.text, start.offset)
        return Method(name, visibility, "static" in modifiers, params, return_type, called, returns, line)

    def params(self, namespace: str, imports: dict[str, str]) -> tuple[Param, ...]:
        self.i += 1  # '('
        groups: list[list[phparray.Token]] = [[]]
        depth = 0
        while True:
            if self.at("eof"):
                self.fail("the parameter list is never closed with ')'.")
            token = self.tok
            self.i += 1
            if token.kind == "punct" and token.value in ("(", "[", "#["):
                depth += 1
            elif token.kind == "punct" and token.value in (")", "]"):
                if depth == 0:
                    break
                depth -= 1
            elif token.kind == "punct" and token.value == "," and depth == 0:
                groups.append([])
                continue
            groups[-1].append(token)
        out = []
        for group in groups:
            if not group:
                continue
            variable = next((k for k, t in enumerate(group) if t.kind == "variable"), None)
            if variable is None:
                self.fail("each parameter needs a variable name ($name).", group[0])
            before = [t for t in group[:variable] if t.kind != "punct" or t.value not in ("&", "...")]
            before = [t for t in before if not (t.kind == "word" and str(t.value).lower() in ("public", "protected", "private", "readonly"))]
            type_ = "".join(str(t.value) if t.kind == "punct" else _resolve(str(t.value), namespace, imports) for t in before) or None
            variadic = any(t.kind == "punct" and t.value == "..." for t in group[:variable])
            default = any(t.kind == "punct" and t.value == "=" for t in group[variable:])
            out.append(Param(str(group[variable].value), type_, variadic, default))
        return tuple(out)


def _body_facts(body: list[phparray.Token]) -> tuple[frozenset[str], bool]:
    """Variables called as functions in a method body, and whether it returns a value (closures skipped)."""
    called, returns = set(), False
    k, skip_depth, depth = 0, None, 0
    while k < len(body):
        token = body[k]
        if token.kind == "punct" and token.value == "{":
            depth += 1
        elif token.kind == "punct" and token.value == "}":
            depth -= 1
            if skip_depth is not None and depth < skip_depth:
                skip_depth = None
        elif token.kind == "word" and str(token.value).lower() == "function" and skip_depth is None:
            skip_depth = depth + 1  # a closure: its own returns are not the method's
        if token.kind == "variable" and k + 1 < len(body) and body[k + 1].kind == "punct" and body[k + 1].value == "(":
            called.add(str(token.value))
        if (token.kind == "word" and str(token.value).lower() in ("call_user_func", "call_user_func_array")
                and k + 2 < len(body) and body[k + 2].kind == "variable"):
            called.add(str(body[k + 2].value))
        if skip_depth is None and token.kind == "word" and str(token.value).lower() == "return":
            if k + 1 < len(body) and not (body[k + 1].kind == "punct" and body[k + 1].value == ";"):
                returns = True
        k += 1
    return frozenset(called), returns


def read_php_class(text: str) -> PhpClass:
    """The first class (or interface) of a PHP file: namespace, imports, name, extends/implements and its
    methods with their parameters (types resolved to full names). Raises PhpReadError where the file
    cannot be read (the error names the line and column). Nothing is run."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if isinstance(text, str):
        text = text.lstrip("\ufeff")
    toks = _tokens(text, "class file")
    return _ClassReader(text, toks).read()


def plugin_kind(method_name: str) -> tuple[str, str] | None:
    """('before'|'after'|'around', the plugged method) for a plugin method name, by Magento's rule:
    beforeSave, afterSave and aroundSave plug save (the rest of the name with a lower-case first letter)."""
    match = _PLUGIN_METHOD.match(method_name)
    if not match:
        return None
    rest = match.group(2)
    return match.group(1), rest[0].lower() + rest[1:]


def _ucfirst(name: str) -> str:
    return name[:1].upper() + name[1:]


def check_plugin(text: str, target: str | None = None, method: str | None = None) -> list[Finding]:
    """What is wrong in a plugin class: `target` is the plugged class (full name), `method` the public
    method it wraps (e.g. "save"); either may be None (not checked). Errors: the plugin would not run, or
    would break the call; warnings: it works, look again."""
    file = "plugin class"
    try:
        cls = read_php_class(text)
    except PhpReadError as error:
        return [Finding("error", f"line {error.line}", error.reason, "Fix the PHP so that it reads.", file)]
    out = []
    if not cls.namespace:
        out.append(Finding("error", cls.name, "the class has no namespace: Magento finds a module's classes by namespace.",
                           "Start with `namespace Vendor\\Module\\Plugin;`.", file))
    for alias, full in cls.imports.items():
        if alias.lower() == cls.name.lower() and full != cls.full_name:
            out.append(Finding("error", cls.name, f"`use {full}` imports the name {alias}, which this class also has: PHP stops with "
                                                  "'the name is already in use'.", f"Write the class's full name instead: \\{full}.", file))
    plugin_methods = [(m, plugin_kind(m.name)) for m in cls.methods if plugin_kind(m.name)]
    if not plugin_methods:
        out.append(Finding("error", cls.name, "no method is named before..., after... or around...: Magento finds a plugin's methods by these prefixes.",
                           f"Name them before{_ucfirst(method or 'Save')}, after{_ucfirst(method or 'Save')} or around{_ucfirst(method or 'Save')}.", file))
    for m, (kind, wraps) in plugin_methods:
        where = f"{m.name} (line {m.line})"
        if method and wraps != method:
            out.append(Finding("error", where, f"{m.name} plugs a method called {wraps!r}, not {method!r}.",
                               f"Name it {kind}{_ucfirst(method)}.", file))
        if m.visibility != "public":
            out.append(Finding("error", where, f"the method is {m.visibility}; Magento calls plugin methods from outside the class.",
                               "Make it public.", file))
        if m.static:
            out.append(Finding("warning", where, "the method is static; plugin methods are instance methods.", "Remove `static`.", file))
        needed = 1 if kind == "before" else 2
        if len(m.params) < needed:
            what = {"before": "($subject, ...)", "after": "($subject, $result, ...)", "around": "($subject, callable $proceed, ...)"}[kind]
            out.append(Finding("error", where, f"a {kind} method takes {what}; this one has {len(m.params)} parameter(s).",
                               f"Write {m.name}{what}.", file))
            continue
        subject = m.params[0]
        if subject.variadic:
            out.append(Finding("error", where, "the first parameter is the plugged object ($subject), not a variadic.", "Make $subject the first parameter.", file))
        elif target and subject.type and subject.type.lstrip("?") != target:
            out.append(Finding("error", where, f"$subject is typed {subject.type}, but the plugged class is {target}: PHP would raise a TypeError.",
                               f"Type it with {target} (imported with `use`, or written in full with a leading backslash).", file))
        elif target and not subject.type:
            out.append(Finding("warning", where, "$subject has no type.", f"Type it with the plugged class, {target}.", file))
        if kind == "around":
            proceed = m.params[1]
            if proceed.name not in m.called:
                out.append(Finding("error", where, f"${proceed.name} is never called: the original method (and the plugins after this one) never run.",
                                   f"Call ${proceed.name}(...$args) and return what it returns.", file))
            if proceed.type != "callable":
                out.append(Finding("warning", where, f"${proceed.name} is not typed callable.", f"Write callable ${proceed.name}.", file))
        if kind in ("after", "around") and not m.returns_value:
            out.append(Finding("error", where, f"the {kind} method returns nothing: the caller of {wraps}() would get null.",
                               "Return the result (after: $result, changed or not; around: what $proceed returned).", file))
    return out


def describe_plugin(text: str, target: str | None = None, method: str | None = None) -> dict:
    """A plugin class as plain data, independent of layout, names of locals and comments: its namespace and
    class, per plugin method what matters to Magento, and the errors check_plugin finds."""
    try:
        cls = read_php_class(text)
    except (PhpReadError, TypeError) as error:
        return {"unreadable": str(error)}
    methods = {}
    for m in cls.methods:
        kind = plugin_kind(m.name)
        if not kind:
            continue
        entry: dict = {"kind": kind[0], "wraps": kind[1], "public": m.visibility == "public", "static": m.static,
                       "subject type": m.params[0].type if m.params else None}
        if kind[0] == "around":
            proceed = m.params[1] if len(m.params) > 1 else None
            entry["proceed"] = {"callable": bool(proceed and proceed.type == "callable"), "called": bool(proceed and proceed.name in m.called)}
        if kind[0] in ("after", "around"):
            entry["returns a value"] = m.returns_value
        if kind[0] == "after":
            entry["takes the result"] = len(m.params) >= 2 and not m.params[1].variadic
        methods[m.name] = entry
    return {"namespace": cls.namespace, "class": cls.name, "methods": methods,
            "errors": [f"{f.key.split(' (line')[0]}: {f.problem}" for f in check_plugin(text, target, method) if f.level == "error"]}


def check_observer(text: str) -> list[Finding]:
    """What is wrong in an observer class: it must implement Magento\\Framework\\Event\\ObserverInterface
    and have a public execute(Observer $observer)."""
    file = "observer class"
    try:
        cls = read_php_class(text)
    except PhpReadError as error:
        return [Finding("error", f"line {error.line}", error.reason, "Fix the PHP so that it reads.", file)]
    out = []
    if OBSERVER_INTERFACE not in cls.implements:
        out.append(Finding("error", cls.name, f"the class does not implement {OBSERVER_INTERFACE}.",
                           "Write `class Name implements ObserverInterface` with `use Magento\\Framework\\Event\\ObserverInterface;`.", file))
    execute = cls.method("execute")
    if execute is None:
        out.append(Finding("error", cls.name, "there is no execute() method: it is what Magento calls when the event is dispatched.",
                           "Add public function execute(Observer $observer).", file))
    elif execute.visibility != "public" or len(execute.params) != 1:
        out.append(Finding("error", f"execute (line {execute.line})", "execute must be public and take one parameter, the Observer.",
                           "Write public function execute(Observer $observer).", file))
    elif execute.params[0].type not in (None, OBSERVER_CLASS):
        out.append(Finding("error", f"execute (line {execute.line})", f"its parameter is typed {execute.params[0].type}, not {OBSERVER_CLASS}.",
                           "Import Magento\\Framework\\Event\\Observer and type the parameter with it.", file))
    return out


# -- the picture -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """An SVG picture; a notebook shows it."""

    svg: str

    def _repr_svg_(self) -> str:
        return self.svg


def interception(method: str = "save", kinds: tuple[str, ...] = ("before", "around", "after")) -> Picture:
    """A call to `method` on a plugged class, as Magento's interceptor runs one plugin: beforeX, the first
    half of aroundX up to $proceed(), the original method, the rest of aroundX, afterX. `kinds`: the
    methods the plugin has (the others are drawn grey). Several plugins on one method run by sortOrder,
    lowest first, each around method wrapping the plugins after it."""
    cap = _ucfirst(method)
    ink, grey, blue, orange = "#202124", "#9aa0a6", "#1a5fb4", "#b45309"
    boxes = [  # (x, y, width, name, parameters, what it does, kind)
        (20, 50, 170, "caller", f"$object->{method}(...)", "calls the method", None),
        (220, 50, 230, f"before{cap}()", "($subject, ...$args)", "may return new arguments", "before"),
        (480, 50, 230, f"around{cap}()", "($subject, callable $proceed, ...$args)", "runs up to $proceed(...$args)", "around"),
        (740, 140, 230, f"{method}()", "the plugged class's own code", "the original method", "original"),
        (480, 230, 230, f"around{cap}() continued", "after $proceed returned", "returns a result", "around"),
        (220, 230, 230, f"after{cap}()", "($subject, $result, ...$args)", "returns the result to use", "after"),
        (20, 230, 170, "caller", "gets the result", "", None),
    ]
    h = 66
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="300" viewBox="0 0 990 330" font-family="DejaVu Sans, Arial, sans-serif" '
             f'font-size="11" role="img" aria-label="A plugged call to {html.escape(method)}: before, around, the method, after">',
             '<defs><marker id="ic-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
             f'<path d="M0,0 L10,5 L0,10 z" fill="{blue}"/></marker></defs><rect width="990" height="330" fill="white"/>',
             f'<text x="20" y="26" font-size="13" font-weight="bold" fill="{ink}">A call to {html.escape(method)}() on a class with one plugin '
             '(Magento framework)</text>']
    for x, y, w, name, params, what, kind in boxes:
        present = kind in (None, "original") or kind in kinds
        stroke = orange if kind == "original" else (blue if present else grey)
        dash = "" if present else ' stroke-dasharray="4 3"'
        fill = "#fdf4ea" if kind == "original" else "white"
        colour = ink if present else grey
        parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="1.4"{dash}/>')
        parts.append(f'<text x="{x + w / 2}" y="{y + 19}" text-anchor="middle" font-family="DejaVu Sans Mono, monospace" font-weight="bold" '
                     f'fill="{colour}">{html.escape(name)}</text>')
        parts.append(f'<text x="{x + w / 2}" y="{y + 36}" text-anchor="middle" font-family="DejaVu Sans Mono, monospace" font-size="9" '
                     f'fill="{grey}">{html.escape(params)}</text>')
        parts.append(f'<text x="{x + w / 2}" y="{y + 55}" text-anchor="middle" fill="{colour}">'
                     f'{html.escape(what if present else "(not in this plugin: skipped)")}</text>')
    line = f'stroke="{blue}" stroke-width="1.4" fill="none" marker-end="url(#ic-arrow)"'
    for (x0, y0, w0, *_), (x1, y1, w1, *_) in zip(boxes, boxes[1:], strict=False):
        if y0 == y1 and x1 > x0:
            parts.append(f'<line x1="{x0 + w0}" y1="{y0 + h / 2}" x2="{x1 - 1}" y2="{y1 + h / 2}" {line}/>')
        elif y0 == y1:
            parts.append(f'<line x1="{x0}" y1="{y0 + h / 2}" x2="{x1 + w1 + 1}" y2="{y1 + h / 2}" {line}/>')
        elif x1 > x0:  # down into the original method
            parts.append(f'<path d="M{x0 + w0},{y0 + h / 2} L{x1 + w1 / 2},{y0 + h / 2} L{x1 + w1 / 2},{y1 - 1}" {line}/>')
            parts.append(f'<text x="{x0 + w0 + 8}" y="{y0 + h / 2 - 6}" fill="{blue}">$proceed(...$args)</text>')
        else:  # back out of it, with its result
            parts.append(f'<path d="M{x0 + w0 / 2},{y0 + h} L{x0 + w0 / 2},{y1 + h / 2} L{x1 + w1 + 1},{y1 + h / 2}" {line}/>')
            parts.append(f'<text x="{x1 + w1 + 8}" y="{y1 + h / 2 - 6}" fill="{blue}">its result</text>')
    parts.append(f'<text x="20" y="318" fill="{grey}">An around method that never calls $proceed skips the method (and the plugins after it); '
                 'an after method gets the result the around method returned.</text>')
    parts.append("</svg>")
    return Picture("".join(parts))


# -- an example module -------------------------------------------------------------------------------------

_SUBSCRIBER = "Magento\\InventoryMessageBus\\Handler\\OnAggregateStockUpdatedSubscriber"

EXAMPLE: dict[str, str] = {
    "registration.php": """<?php
use Magento\\Framework\\Component\\ComponentRegistrar;

ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Acme_OmsTweaks', __DIR__);
""",
    "etc/module.xml": """<?xml version="1.0"?>
<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="urn:magento:framework:Module/etc/module.xsd">
    <module name="Acme_OmsTweaks">
        <sequence>
            <module name="Magento_Sales"/>
            <module name="Magento_InventoryMessageBus"/>
        </sequence>
    </module>
</config>
""",
    "etc/di.xml": f"""<?xml version="1.0"?>
<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="{DI_SCHEMA}">
    <!-- the connector's handler of aggregate_stock_management.updated -->
    <type name="{_SUBSCRIBER}">
        <plugin name="acme_keep_back" type="Acme\\OmsTweaks\\Plugin\\KeepBack" sortOrder="10"/>
    </type>
    <!-- Magento's own order repository -->
    <type name="Magento\\Sales\\Api\\OrderRepositoryInterface">
        <plugin name="acme_ship_priority" type="Acme\\OmsTweaks\\Plugin\\ShipPriority"/>
    </type>
</config>
""",
    "Plugin/KeepBack.php": f"""<?php
declare(strict_types=1);

namespace Acme\\OmsTweaks\\Plugin;

use {_SUBSCRIBER};

class KeepBack
{{
    // "execute" stands in for the handler's public method: the public sources name this class, not its methods.
    public function aroundExecute(OnAggregateStockUpdatedSubscriber $subject, callable $proceed, ...$args)
    {{
        // change the incoming stock update in $args here, then let the connector apply it
        return $proceed(...$args);
    }}
}}
""",
    "Plugin/ShipPriority.php": """<?php
declare(strict_types=1);

namespace Acme\\OmsTweaks\\Plugin;

use Magento\\Sales\\Api\\Data\\OrderInterface;
use Magento\\Sales\\Api\\OrderRepositoryInterface;

class ShipPriority
{
    public function beforeSave(OrderRepositoryInterface $subject, OrderInterface $order)
    {
        $extension = $order->getExtensionAttributes();
        if ($extension->getShipPriority() === null) {
            $extension->setShipPriority('standard');
        }
        return [$order];                      // the arguments save() is then called with
    }

    public function afterGet(OrderRepositoryInterface $subject, OrderInterface $result, $id)
    {
        // fill the extension attribute when an order is loaded (from wherever the module keeps it)
        return $result;                       // the result the caller gets
    }
}
""",
    "etc/events.xml": f"""<?xml version="1.0"?>
<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="{EVENTS_SCHEMA}">
    <event name="sales_order_shipment_save_after">
        <observer name="acme_ship_mail" instance="Acme\\OmsTweaks\\Observer\\NotifyCustomer"/>
    </event>
</config>
""",
    "Observer/NotifyCustomer.php": """<?php
declare(strict_types=1);

namespace Acme\\OmsTweaks\\Observer;

use Magento\\Framework\\Event\\Observer;
use Magento\\Framework\\Event\\ObserverInterface;

class NotifyCustomer implements ObserverInterface
{
    public function execute(Observer $observer)
    {
        $shipment = $observer->getEvent()->getShipment();
        $numbers = [];
        foreach ($shipment->getTracks() as $track) {
            $numbers[] = $track->getTrackNumber();
        }
        // queue the customer's e-mail with $numbers
    }
}
""",
    "etc/extension_attributes.xml": f"""<?xml version="1.0"?>
<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="{EXTENSION_SCHEMA}">
    <extension_attributes for="Magento\\Sales\\Api\\Data\\OrderInterface">
        <attribute code="ship_priority" type="string"/>
    </extension_attributes>
</config>
""",
}
"""The files of a small example module, Acme_OmsTweaks (app/code/Acme/OmsTweaks/...), by path in the module."""

ROLES: dict[str, str] = {
    "registration.php": "registers the module with Magento under its name, Acme_OmsTweaks",
    "etc/module.xml": "the module's name, and the modules it loads after (<sequence>)",
    "etc/di.xml": "plugins: which class each one wraps, and the plugin class",
    "Plugin/KeepBack.php": "an around plugin on the connector's stock-update handler",
    "Plugin/ShipPriority.php": "a before and an after plugin on Magento's order repository",
    "etc/events.xml": "observers: which event each one reacts to, and the observer class",
    "Observer/NotifyCustomer.php": "the observer: execute(Observer $observer)",
    "etc/extension_attributes.xml": "a new field, ship_priority, on Magento's order data interface",
}
"""What each file of EXAMPLE declares."""
