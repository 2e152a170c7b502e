"""The env.php / config.php reader: literal arrays are read; anything else is refused, never run."""

from __future__ import annotations

import builtins
import inspect
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from momlab.connector import phparray
from momlab.connector.phparray import MAX_BYTES, MAX_DEPTH, PhpReadError, loads, read
from tests.support.builders import php_literal

ENV = """<?php
return [
    'backend' => [
        'frontName' => 'admin'   // the Admin's URL
    ],
    # a shell-style comment
    'serviceBus' => [
        'url' => 'https://mib.example.com/',
        'oauth_server_url' => "https://mib.example.com/",
        'application_id' => 'mdc',
        'secure_endpoint' => true,
        /* a block
           comment */
        'retries' => 3,
    ],
    'cache_types' => array('config' => 1, 'layout' => 0,),
    'MAGE_MODE' => 'production',
];
"""


def test_reads_a_magento_env_file():
    doc = loads(ENV)
    assert doc["serviceBus"] == {"url": "https://mib.example.com/", "oauth_server_url": "https://mib.example.com/",
                                 "application_id": "mdc", "secure_endpoint": True, "retries": 3}
    assert doc["cache_types"] == {"config": 1, "layout": 0}
    assert list(doc) == ["backend", "serviceBus", "cache_types", "MAGE_MODE"]


@pytest.mark.parametrize("source, expected", [
    ("<?php return [];", {}),
    ("<?php\nreturn ['a', 'b', 'c'];", ["a", "b", "c"]),
    ("<?php return [2 => 'x', 'y'];", {2: "x", 3: "y"}),
    ("<?php return ['8' => 'eight', '08' => 'text', '-3' => 1];", {8: "eight", "08": "text", -3: 1}),
    ("<?php return [true => 'a', null => 'b', 1.9 => 'c'];", {1: "c", "": "b"}),
    ("<?php return ['n' => -1.5e3, 'h' => 0x1F, 'b' => 0b101, 'o' => 0755, 'p' => 0o17, 'u' => 1_000, 'f' => .5, 'g' => +2];",
     {"n": -1500.0, "h": 31, "b": 5, "o": 493, "p": 15, "u": 1000, "f": 0.5, "g": 2}),
    ("<?php return ['t' => TRUE, 'f' => False, 'n' => NULL];", {"t": True, "f": False, "n": None}),
    (r"""<?php return ['s' => 'it\'s \\ \n', 'd' => "tab\there \"q\" \$5 \x41\101 \u{e9}"];""",
     {"s": "it's \\ \\n", "d": 'tab\there "q" $5 AA é'}),
    ("<?php return ['x' => 1]; ?>\n", {"x": 1}),
    ("<?PHP\r\nreturn ARRAY('a' => ARRAY());", {"a": {}}),
    ("<?php return ['k' => 1, 'k' => 2, 'z' => 3];", {"k": 2, "z": 3}),
])
def test_literal_values(source, expected):
    assert loads(source) == expected


def test_duplicate_keys_and_close_tag_are_warned_about():
    found = read("<?php return ['serviceBus' => ['url' => 'a'], 'serviceBus' => ['url' => 'b']]; ?>")
    assert found.value == {"serviceBus": {"url": "b"}}
    assert any("'serviceBus' appears twice" in w for w in found.warnings)
    assert any("?>" in w for w in found.warnings)


# (text, words the refusal must contain, line, column)
REFUSED = [
    ("<?php return ['a' => system('rm -rf /')];", "function call", 1, 22),
    ("<?php return ['a' => exec('id')];", "function call", 1, 22),
    ("<?php return ['db' => getenv('DB_PASS')];", "function call", 1, 23),
    ("<?php return [__import__('os')];", "function call", 1, 15),
    ("<?php return ['a' => \\system('id')];", "namespaced", 1, 22),
    ("<?php return ['a' => `id`];", "shell command", 1, 22),
    ("<?php return ['a' => <<<EOT\nsecret\nEOT\n];", "heredoc", 1, 22),
    ("<?php return ['a' => <<<'EOT'\nsecret\nEOT\n];", "heredoc", 1, 22),
    ("<?php return ['a' => 'never closed];", "never closed", 1, 22),
    ('<?php return ["a" => "never closed];', "never closed", 1, 22),
    ("<?php return ['a' => 1 /* never closed ];", "never closed", 1, 24),
    ("<?php return ['a' => 1", "never closed", 1, 14),
    ("<?php return ['a' => $password];", "variable", 1, 22),
    ('<?php return ["a" => "pass: $password"];', "interpolation", 1, 29),
    ('<?php return ["a" => "{$x}"];', "interpolation", 1, 23),
    ('<?php return ["a" => "${x}"];', "interpolation", 1, 23),
    ("<?php return ['a' => 'x' . 'y'];", "concatenation", 1, 26),
    ("<?php return ['a' => 1 ? 2 : 3];", "conditional", 1, 24),
    ("<?php return ['a' = 1];", "assignment", 1, 19),
    ("<?php return ['a' => PHP_EOL];", "constant", 1, 22),
    ("<?php return ['a' => Foo::BAR];", "':'", 1, 25),
    ("<?php return ['a' => new ArrayObject()];", "creates an object", 1, 22),
    ("<?php return include 'other.php';", "loads and runs", 1, 14),
    ("<?php return ['a' => eval('1')];", "function call", 1, 22),
    ("<?php return ['a' => $x++];", "variable", 1, 22),
    ("<?php return ['a' => @file('x')];", "error-silencing", 1, 22),
    ("<?php return [...$x];", "'.'", 1, 15),
    ("<?php $db = 'x'; return [];", "variable", 1, 7),
    ("<?php echo 'hi'; return [];", "expected 'return ['", 1, 7),
    ("<?php return []; phpinfo();", "nothing may follow", 1, 18),
    ("<?php return [] ?> <h1>hacked</h1>", "printed by PHP", 1, 20),
    ("<?php return 'just text';", "must return an array", 1, 14),
    ("<?php return []", "expected ';'", 1, 16),
    ("<?php return [1 2];", "expected ','", 1, 17),
    ("<?php return [[1] => 2];", "cannot be an array key", 1, 15),
    ("<?php return ['a' => 0789];", "octal", 1, 22),
    ("<?php return ['a' => 12abc];", "not a number", 1, 22),
    ("<?php return ['a' => 1.2.3];", "not a number", 1, 22),
    ("<?php return ['a' => - 'x'];", "followed by a number", 1, 22),
    ("<?php #[Attr]\nreturn [];", "attribute", 1, 7),
    ("<?= 'x' ?>", "opening tag", 1, 1),
    ("<? return [];", "opening tag", 1, 1),
    ("\n<?php return [];", "before '<?php'", 1, 1),
    ("<html><?php return [];", "before '<?php'", 1, 1),
    ("return [];", "no '<?php'", 1, 1),
    ("", "no '<?php'", 1, 1),
    ("<?php", "expected 'return ['", 1, 6),
    ("\ufeff<?php return [];", "byte-order mark", 1, 1),
    ("<?php return ['a' => 'nul\x00byte'];", "control character", 1, 26),
    ("<?php return ['a' => '\ud800'];", "surrogate", 1, 23),
    ('<?php return ["a" => "\\u{110000}"];', "Unicode character", 1, 23),
]


@pytest.mark.parametrize("source, words, line, column", REFUSED)
def test_refused_with_where_and_what(source, words, line, column):
    with pytest.raises(PhpReadError) as caught:
        read(source)
    error = caught.value
    assert words.lower() in error.reason.lower(), error.reason
    assert (error.line, error.column) == (line, column), str(error)
    assert str(error).startswith(f"env.php line {line}, column {column}: ")


def test_where_is_counted_on_later_lines():
    source = "<?php\nreturn [\n    'ok' => 1,\n    'bad' => shell_exec('id'),\n];\n"
    with pytest.raises(PhpReadError) as caught:
        read(source, name="app/etc/env.php")
    assert (caught.value.line, caught.value.column) == (4, 14)
    assert caught.value.excerpt == "    'bad' => shell_exec('id'),\n             ^"
    assert "app/etc/env.php line 4, column 14" in str(caught.value)


def test_non_utf8_bytes_are_refused_with_their_line():
    with pytest.raises(PhpReadError) as caught:
        read(b"<?php\nreturn ['a' => '\xe9t\xe9'];")
    assert caught.value.line == 2 and "not UTF-8" in caught.value.reason
    assert "0xe9" in caught.value.reason


def test_huge_nesting_is_refused_without_recursion_error():
    deep = "<?php return " + "[" * 200_000 + "]" * 200_000 + ";"
    with pytest.raises(PhpReadError) as caught:
        read(deep)
    assert "nested more than" in caught.value.reason
    value = read("<?php return " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + ";").value
    for _ in range(MAX_DEPTH - 1):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == {}
    with pytest.raises(PhpReadError):
        read("<?php return " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + ";")


def test_oversized_input_is_refused_before_reading():
    big = "<?php return ['a' => '" + "x" * MAX_BYTES + "'];"
    with pytest.raises(PhpReadError, match="over"):
        read(big)
    with pytest.raises(PhpReadError, match="over"):
        read(big.encode())


def test_a_large_legal_file_reads_whole():
    body = ",\n".join(f"    'key{i}' => ['value' => 'text {i}', 'n' => {i}, 'on' => true]" for i in range(8000))
    doc = loads(f"<?php\nreturn [\n{body}\n];\n")
    assert len(doc) == 8000 and doc["key7999"]["n"] == 7999


def test_wrong_argument_type():
    with pytest.raises(TypeError):
        read(42)  # type: ignore[arg-type]


def test_the_reader_never_evaluates(monkeypatch):
    """Whatever it reads, the reader calls no evaluator, and its source uses none."""
    def forbidden(*args, **kwargs):
        raise AssertionError("the reader must never evaluate text")

    for name in ("eval", "exec", "compile", "__import__"):
        monkeypatch.setattr(builtins, name, forbidden)
    for source, *_ in REFUSED[:20]:
        with pytest.raises(PhpReadError):
            read(source)
    assert loads(ENV)["serviceBus"]["application_id"] == "mdc"
    monkeypatch.undo()
    text = inspect.getsource(phparray)
    assert not re.search(r"(?<![.\w])(eval|exec|compile|__import__)\s*\(|subprocess|os\.system|literal_eval|importlib", text)


# -- properties -------------------------------------------------------------------------------------


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
_keys = _text.filter(lambda k: not re.fullmatch(r"-?(0|[1-9][0-9]*)", k))
_scalars = st.none() | st.booleans() | st.integers(min_value=-(2**62), max_value=2**62) | _text | \
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15).filter(lambda f: f != int(f) or abs(f) < 1e15)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, min_size=1, max_size=4) | st.dictionaries(_keys, inner, min_size=1, max_size=4),
                       max_leaves=20)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_keys, _values, min_size=1, max_size=5))
def test_round_trip(doc):
    assert loads(f"<?php\nreturn {php_literal(doc)};\n") == doc


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_read_or_refused_cleanly(text):
    for source in (text, "<?php return " + text, "<?php return [" + text + "];"):
        try:
            read(source)
        except PhpReadError as error:
            assert error.line >= 1 and error.column >= 1 and error.reason


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_cleanly(raw):
    try:
        read(b"<?php return [" + raw + b"];")
    except PhpReadError as error:
        assert error.reason
