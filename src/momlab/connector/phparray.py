"""Read a Magento PHP configuration file (app/etc/env.php, app/etc/config.php) as data, never as code.

Magento keeps its configuration as PHP source: `<?php return [ ... ];`. This module reads exactly that
shape: one array literal of strings, numbers, booleans, null and nested arrays (`[...]` or
`array(...)`), with comments. It has its own tokenizer and recursive-descent parser; nothing is ever
executed, evaluated or imported. Anything else is refused with a `PhpReadError` that says where (line
and column) and what: a function call, a variable, a constant, an operator, backticks (a shell
command in PHP), heredoc, interpolation inside a double-quoted string, an unterminated string or
comment, text before `<?php`, arrays nested deeper than MAX_DEPTH, more than MAX_BYTES, bytes that
are not UTF-8.

    >>> read('<?php return ["serviceBus" => ["application_id" => "mdc", "secure_endpoint" => true]];').value
    {'serviceBus': {'application_id': 'mdc', 'secure_endpoint': True}}

PHP arrays are ordered maps. A PHP array whose keys are 0, 1, 2... in order becomes a Python list,
any other a dict (an empty array is an empty dict). Keys follow PHP's casts: "8" becomes 8, true 1,
null "". A key given twice is kept once, the last value winning as in PHP, with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32

# Words that start PHP code rather than data, with what they would do.
_CODE_WORDS = {
    "eval": "runs PHP code given as text",
    "include": "loads and runs another PHP file",
    "include_once": "loads and runs another PHP file",
    "require": "loads and runs another PHP file",
    "require_once": "loads and runs another PHP file",
    "new": "creates an object",
    "exit": "stops PHP",
    "die": "stops PHP",
    "echo": "prints output",
    "print": "prints output",
    "function": "defines a function",
    "fn": "defines a function",
    "static": "declares static code",
    "class": "defines a class",
    "match": "is a match expression",
    "declare": "is a PHP directive",
    "namespace": "declares a namespace",
    "use": "imports names",
    "if": "is a condition",
    "isset": "tests a variable",
    "empty": "tests a variable",
    "list": "destructures an array",
}
_OPERATORS = {
    ".": "the string concatenation operator '.'",
    "?": "the conditional operator '?'",
    ":": "':' (part of an operator or a class constant)",
    "=": "an assignment '='",
    "&": "the operator '&'",
    "|": "the operator '|'",
    "^": "the operator '^'",
    "~": "the operator '~'",
    "!": "the operator '!'",
    "*": "the operator '*'",
    "/": "the operator '/'",
    "%": "the operator '%'",
    "<": "the operator '<'",
    ">": "the operator '>'",
    "@": "the error-silencing operator '@'",
    "\\": "a namespaced name (backslash)",
    "{": "a code block '{'",
    "}": "a code block '}'",
}
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "e": "\x1b", "f": "\f", "\\": "\\", "$": "$", '"': '"'}
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F]+(?:_[0-9a-fA-F]+)*"
    r"|0[bB][01]+(?:_[01]+)*"
    r"|0[oO][0-7]+(?:_[0-7]+)*"
    r"|(?:[0-9]+(?:_[0-9]+)*)?\.[0-9]+(?:_[0-9]+)*(?:[eE][+-]?[0-9]+(?:_[0-9]+)*)?"
    r"|[0-9]+(?:_[0-9]+)*\.(?:[0-9]+(?:_[0-9]+)*)?(?:[eE][+-]?[0-9]+(?:_[0-9]+)*)?"
    r"|[0-9]+(?:_[0-9]+)*[eE][+-]?[0-9]+(?:_[0-9]+)*"
    r"|[0-9]+(?:_[0-9]+)*"
)
WORD = re.compile(r"[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*")
_INT_KEY = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
PHP_INT_MAX = 2**63 - 1
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
SINGLE_RUN = re.compile(r"[^'\\]+")
DOUBLE_RUN = re.compile(r'[^"\\${]+')


class PhpReadError(ValueError):
    """The text is not a PHP configuration array momlab can read. `line` and `column` count from 1."""

    def __init__(self, reason: str, line: int, column: int, excerpt: str = "", name: str = "env.php"):
        self.reason = reason
        self.line = line
        self.column = column
        self.excerpt = excerpt
        self.name = name
        super().__init__(f"{name} line {line}, column {column}: {reason}")

    def _repr_html_(self) -> str:
        import html

        return (
            '<div style="border-left:4px solid #b00020;padding:.4em .8em;background:#fff5f5">'
            f"<b>{html.escape(self.name)} was refused</b> (line {self.line}, column {self.column})<br>"
            f"{html.escape(self.reason)}<pre>{html.escape(self.excerpt)}</pre></div>"
        )


@dataclass
class PhpFile:
    """What `read` found: the array as Python data, and warnings about legal but doubtful things."""

    value: Any
    warnings: list[str] = field(default_factory=list)


@dataclass
class Token:
    kind: str  # open, close_tag, [, ], (, ), ",", =>, ;, string, number, word, sign, eof
    value: Any
    offset: int


def read(source: str | bytes, name: str = "env.php") -> PhpFile:
    """Read `<?php return <array>;` from text or bytes; raise PhpReadError for anything else."""
    text = _text(source, name)
    tokens = Tokenizer(text, name).tokens()
    return _Parser(text, tokens, name).file()


def loads(source: str | bytes, name: str = "env.php") -> Any:
    """Just the data of `read`."""
    return read(source, name).value


# -- text ---------------------------------------------------------------------------------------------


def _text(source: str | bytes, name: str) -> str:
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        if len(raw) > MAX_BYTES:
            raise PhpReadError(f"the file is {len(raw):,} bytes; a configuration file over {MAX_BYTES:,} bytes is refused.", 1, 1, name=name)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            before = raw[: exc.start]
            line = before.count(b"\n") + 1
            column = len(before) - (before.rfind(b"\n") + 1) + 1
            shown = raw.decode("utf-8", "replace")
            offset = len(raw[: exc.start].decode("utf-8", "replace"))
            raise PhpReadError(
                f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not UTF-8 text. Save the file as UTF-8.",
                line, column, excerpt(shown, offset), name,
            ) from None
    elif isinstance(source, str):
        text = source
        if len(text) > MAX_BYTES:
            raise PhpReadError(f"the file is {len(text):,} characters; a configuration file over {MAX_BYTES:,} is refused.", 1, 1, name=name)
    else:
        raise TypeError(f"read() takes the file's text (str) or bytes, not {type(source).__name__}.")
    bad = _FORBIDDEN.search(text)
    if bad:
        index, code = bad.start(), ord(bad.group(0))
        line, column = position(text, index)
        what = "a lone surrogate (not UTF-8 text)" if code >= 0xD800 else f"the control character U+{code:04X}"
        raise PhpReadError(f"{what} is not allowed in a configuration file.", line, column, excerpt(text, index), name)
    return text


def position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def excerpt(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    end = len(text) if end == -1 else end
    line = text[start:end]
    column = offset - start
    if len(line) > 100:  # keep the caret in view on a very long line
        cut = max(0, column - 50)
        line, column = line[cut : cut + 100], column - cut
    return f"{line}\n{' ' * column}^"


# -- tokens -------------------------------------------------------------------------------------------


class Tokenizer:
    attributes = False  # whether '#[' (a PHP 8 attribute) is a token rather than an error

    def __init__(self, text: str, name: str):
        self.text = text
        self.name = name
        self.pos = 0
        self.depth = 0
        self.out: list[Token] = []

    def fail(self, reason: str, offset: int | None = None):
        offset = self.pos if offset is None else offset
        line, column = position(self.text, offset)
        raise PhpReadError(reason, line, column, excerpt(self.text, offset), self.name)

    def tokens(self) -> list[Token]:
        text = self.text
        if text.startswith("\ufeff"):
            self.fail("the file starts with a byte-order mark (BOM). PHP prints it before anything else, which breaks "
                      "Magento's pages: save the file as UTF-8 without BOM.")
        start = text.find("<?")
        if start != 0:
            if start == -1:
                self.fail("there is no '<?php' opening tag: a PHP configuration file starts with '<?php'.", 0)
            self.fail(f"{start} character(s) come before '<?php'. PHP prints them as output, which breaks Magento's pages: "
                      "'<?php' must be the very first thing in the file.", 0)
        if not re.match(r"<\?php(?:\s|\Z)", text[:6], re.IGNORECASE):
            self.fail("the opening tag must be '<?php' followed by a space or a new line (short tags '<?' and '<?=' are refused).", 0)
        self.out.append(Token("open", None, 0))
        self.pos = 5
        while True:
            self._skip_space_and_comments()
            if self.pos >= len(text):
                self.out.append(Token("eof", None, self.pos))
                return self.out
            char = text[self.pos]
            start = self.pos
            if text.startswith("?>", self.pos):
                self.out.append(Token("close_tag", None, start))
                self.pos += 2
                rest = text[self.pos :]
                if rest.strip():
                    self.fail("text after the closing '?>' is printed by PHP as output; remove it (and best remove '?>' too).",
                              self.pos + (len(rest) - len(rest.lstrip())))
                self.pos = len(text)
                continue
            if text.startswith("=>", self.pos):
                self.out.append(Token("=>", None, start))
                self.pos += 2
            elif char in "[](),;":
                if char in "[(":
                    self.depth += 1
                    if self.depth > MAX_DEPTH + 1:  # refuse early: no need to read the rest
                        self.fail(f"arrays are nested more than {MAX_DEPTH} levels deep here; a Magento configuration file never needs that.")
                elif char in "])":
                    self.depth -= 1
                self.out.append(Token(char, None, start))
                self.pos += 1
            elif char == "'":
                self.out.append(Token("string", self._quoted("'", SINGLE_RUN, self._single_special), start))
            elif char == '"':
                self.out.append(Token("string", self._quoted('"', DOUBLE_RUN, self._double_special), start))
            elif char in "0123456789" or (char == "." and text[self.pos + 1 : self.pos + 2] in tuple("0123456789")):
                self.out.append(Token("number", self._number(), start))
            elif char in "+-":
                if text.startswith(("++", "--"), self.pos):
                    self.fail(f"'{char * 2}' is an increment/decrement operator: code, not data.")
                self.out.append(Token("sign", char, start))
                self.pos += 1
            elif WORD.match(text, self.pos):
                word = WORD.match(text, self.pos).group(0)
                self.out.append(Token("word", word, start))
                self.pos += len(word)
            elif char == "`":
                self.fail("backticks run a shell command in PHP. A configuration file momlab reads holds only literal values.")
            elif char == "$":
                self.fail("'$' starts a PHP variable: code, not data. Write the value itself, in quotes.")
            elif text.startswith("<<<", self.pos):
                self.fail("heredoc/nowdoc strings ('<<<') are not read by momlab; write the value as a quoted string.")
            elif char in _OPERATORS:
                self.fail(f"{_OPERATORS[char]} is not allowed: a configuration file momlab reads holds only literal values "
                          "(strings, numbers, true/false/null and arrays), no expressions.")
            else:
                self.fail(f"unexpected character {char!r}.")

    def _skip_space_and_comments(self) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r\n":
                self.pos += 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end == -1:
                    self.fail("this '/*' comment is never closed with '*/'.")
                self.pos = end + 2
            elif text.startswith("#[", self.pos):
                if self.attributes:
                    return  # a token, for a reader of PHP code (momlab.magento_code)
                self.fail("'#[' starts a PHP attribute: code, not data.")
            elif text.startswith("//", self.pos) or char == "#":
                newline = text.find("\n", self.pos)
                newline = len(text) if newline == -1 else newline
                close = text.find("?>", self.pos, newline)  # in PHP, '?>' ends a one-line comment too
                self.pos = close if close != -1 else newline
            else:
                return

    def _quoted(self, quote: str, plain: re.Pattern[str], special: Callable[[list[str]], None]) -> str:
        """A quoted string, from its opening quote: runs of plain characters up to the closing quote; any other
        character goes to `special`, which applies that kind of string's rules (escapes, and for double
        quotes the refusal of interpolation)."""
        text, start = self.text, self.pos
        self.pos += 1
        out: list[str] = []
        kind, other = ("single", '"') if quote == "'" else ("double", "'")
        while True:
            if self.pos >= len(text):
                self.fail(f"this {kind}-quoted string is never closed: a {other}{quote}{other} is missing.", start)
            run = plain.match(text, self.pos)
            if run:
                out.append(run.group(0))
                self.pos = run.end()
            elif text[self.pos] == quote:
                self.pos += 1
                return "".join(out)
            else:
                special(out)

    def _single_special(self, out: list[str]) -> None:
        """In single quotes only a backslash before a backslash or a quote escapes it; all else is itself."""
        text = self.text
        if text[self.pos] == "\\" and self.pos + 1 < len(text) and text[self.pos + 1] in "\\'":
            out.append(text[self.pos + 1])
            self.pos += 2
        else:
            out.append(text[self.pos])
            self.pos += 1

    def _double_special(self, out: list[str]) -> None:
        """In double quotes: PHP's escape sequences, and '$' or '{$' (interpolation: code) refused."""
        text, char = self.text, self.text[self.pos]
        if char == "$" and self.pos + 1 < len(text) and (text[self.pos + 1] == "{" or WORD.match(text, self.pos + 1)):
            self.fail("'$' inside a double-quoted string inserts a PHP variable (interpolation): code, not data. "
                      "Use single quotes, or write '\\$' for a dollar sign.")
        if char == "{" and text.startswith("{$", self.pos):
            self.fail("'{$' inside a double-quoted string inserts PHP code (interpolation). Use single quotes.")
        if char != "\\" or self.pos + 1 >= len(text):
            out.append(char)
            self.pos += 1
            return
        nxt = text[self.pos + 1]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            self.pos += 2
        elif nxt in "01234567":
            digits = re.match(r"[0-7]{1,3}", text[self.pos + 1 :]).group(0)
            out.append(chr(int(digits, 8) & 0xFF))
            self.pos += 1 + len(digits)
        elif nxt == "x" and re.match(r"[0-9A-Fa-f]", text[self.pos + 2 : self.pos + 3]):
            digits = re.match(r"[0-9A-Fa-f]{1,2}", text[self.pos + 2 :]).group(0)
            out.append(chr(int(digits, 16)))
            self.pos += 2 + len(digits)
        elif nxt == "u" and text.startswith("{", self.pos + 2):
            match = re.match(r"\{([0-9A-Fa-f]{1,6})\}", text[self.pos + 2 :])
            if not match or int(match.group(1), 16) > 0x10FFFF or 0xD800 <= int(match.group(1), 16) <= 0xDFFF:
                self.fail("'\\u{...}' must hold the hex code of a Unicode character, e.g. '\\u{e9}'.")
            out.append(chr(int(match.group(1), 16)))
            self.pos += 2 + len(match.group(0))
        else:  # PHP keeps an unknown escape as it is
            out.append("\\")
            self.pos += 1

    def _number(self):
        match = _NUMBER.match(self.text, self.pos)
        literal = match.group(0)
        end = self.pos + len(literal)
        if end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "_."):
            self.fail(f"{self.text[self.pos:end + 1]!r}... is not a number PHP can read.")
        self.pos = end
        digits = literal.replace("_", "")
        lower = digits.lower()
        if lower.startswith("0x"):
            value = int(digits[2:], 16)
        elif lower.startswith("0b"):
            value = int(digits[2:], 2)
        elif lower.startswith("0o"):
            value = int(digits[2:], 8)
        elif any(c in lower for c in ".e"):
            value = float(digits)
        elif len(digits) > 1 and digits.startswith("0"):
            if any(c in "89" for c in digits):
                self.fail(f"{literal} starts with 0, so PHP reads it as octal, where 8 and 9 are not digits.", self.pos - len(literal))
            value = int(digits, 8)
        else:
            value = int(digits)
        if isinstance(value, int) and value > PHP_INT_MAX:
            value = float(value)  # PHP turns an integer it cannot hold into a float
        return value


# -- parser -------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, tokens: list[Token], name: str):
        self.text = text
        self.tokens = tokens
        self.name = name
        self.index = 0
        self.warnings: list[str] = []

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def fail(self, reason: str, token: Token | None = None):
        offset = (token or self.token).offset
        line, column = position(self.text, offset)
        raise PhpReadError(reason, line, column, excerpt(self.text, offset), self.name)

    def next(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def file(self) -> PhpFile:
        self.next()  # the opening tag
        token = self.token
        if not (token.kind == "word" and token.value.lower() == "return"):
            self.fail(f"expected 'return [' after '<?php', found {self._describe(token)}. A Magento configuration file "
                      "is '<?php return [ ... ];' and nothing else.")
        self.next()
        start = self.token
        value = self.value(depth=0, path="")
        if not isinstance(value, (dict, list)):
            self.fail("the file must return an array ('return [ ... ];'), not a single value.", start)
        if self.token.kind != ";":
            self.fail(f"expected ';' after the array, found {self._describe(self.token)}.")
        self.next()
        if self.token.kind == "close_tag":
            self.warnings.append("The file ends with '?>'. PHP files that hold only code should leave it out, so that no stray "
                                 "character after it is ever printed.")
            self.next()
        if self.token.kind != "eof":
            self.fail(f"nothing may follow 'return [ ... ];', found {self._describe(self.token)}.")
        return PhpFile(value, self.warnings)

    def value(self, depth: int, path: str):
        token = self.token
        if token.kind == "[":
            return self.array(depth + 1, path, "]")
        if token.kind == "word" and token.value.lower() == "array" and self.tokens[self.index + 1].kind == "(":
            self.next()
            return self.array(depth + 1, path, ")")
        return self.scalar()

    def array(self, depth: int, path: str, closer: str):
        opener = self.next()
        if depth > MAX_DEPTH:
            self.fail(f"arrays are nested more than {MAX_DEPTH} levels deep here; a Magento configuration file never needs that.", opener)
        items: dict = {}
        next_index = 0
        while self.token.kind != closer:
            if self.token.kind == "eof":
                self.fail(f"this array is never closed: a '{closer}' is missing.", opener)
            start = self.token
            first = self.value(depth, path)
            if self.token.kind == "=>":
                self.next()
                key = self._key(first, start, path)
                value = self.value(depth, f"{path}[{key!r}]")
            else:
                key, value = next_index, first
            if key in items:
                self.warnings.append(f"key {key!r} appears twice in {path or 'the returned array'}; PHP keeps only the last value.")
            items[key] = value
            if isinstance(key, int) and key >= next_index:
                next_index = key + 1
            if self.token.kind == ",":
                self.next()
            elif self.token.kind == "eof":
                self.fail(f"this array is never closed: a '{closer}' is missing.", opener)
            elif self.token.kind != closer:
                self.fail(f"expected ',' or '{closer}' here, found {self._describe(self.token)}.")
        self.next()
        keys = list(items)
        if items and keys == list(range(len(keys))):
            return list(items.values())
        return items

    def _key(self, key, token: Token, path: str):
        if isinstance(key, (dict, list)):
            self.fail("an array cannot be an array key.", token)
        if isinstance(key, bool):
            return int(key)
        if key is None:
            return ""
        if isinstance(key, float):
            return int(key)
        if isinstance(key, str) and _INT_KEY.match(key) and -PHP_INT_MAX - 1 <= int(key) <= PHP_INT_MAX:
            return int(key)  # PHP stores the key "8" as the integer 8
        return key

    def scalar(self):
        token = self.next()
        if token.kind == "string":
            return token.value
        if token.kind == "number":
            return token.value
        if token.kind == "sign":
            number = self.token
            if number.kind != "number":
                self.fail(f"'{token.value}' must be followed by a number here.", token)
            self.next()
            return -number.value if token.value == "-" else number.value
        if token.kind == "word":
            word = token.value
            lower = word.lower()
            if lower == "true":
                return True
            if lower == "false":
                return False
            if lower == "null":
                return None
            if self.token.kind == "(":
                self.fail(f"{word}(...) is a function call: code, not data. A configuration file momlab reads holds only "
                          "literal values; write the value itself.", token)
            if lower in _CODE_WORDS:
                self.fail(f"'{word}' {_CODE_WORDS[lower]}: code, not data.", token)
            self.fail(f"{word} is a PHP constant or a bare word, not a value. Put text in quotes ('{word}'), or write "
                      "true, false or null.", token)
        self.fail(f"expected a value, found {self._describe(token)}.", token)

    @staticmethod
    def _describe(token: Token) -> str:
        if token.kind == "eof":
            return "the end of the file"
        if token.kind == "word":
            return f"'{token.value}'"
        if token.kind == "string":
            return f"the string {token.value[:30]!r}"
        if token.kind == "number":
            return f"the number {token.value}"
        if token.kind == "close_tag":
            return "'?>'"
        if token.kind == "open":
            return "'<?php'"
        return f"'{token.value if token.kind == 'sign' else token.kind}'"
