"""Connector releases and Composer version constraints.

Facts about the releases (mom-reference.md 5.9, 7.8):
- connector 2.x is for Magento Commerce 2.2 and 3.x for 2.3 [doc: kb-export-order]; which Commerce
  versions 4.x supports is not in the public sources [unverified];
- from 4.3.0 the packages come from repo.magento.com; before, from mcom-connector.bcn.magento.com
  with its own keys in auth.json, and the old repository should be removed [doc];
- 3.1.1 to 3.2.x fail with `getMode()` on null when `magento.inventory.source_management` messages
  arrive; fixed in 3.3.x; workaround `delete from mcom_api_messages;` [doc: kb-getmode];
- the order view's Export Order button answers HTTP 404 in 2.3.0, 2.4.0, 3.2.0 and 3.3.0; fixed in
  3.4.0 (for 2.3.x) and 2.5 (for 2.2.x); `bin/magento oms:orders:sync` does the same job [doc].

`satisfies("4.3.1", "^4.3")` reads Composer's constraint syntax: exact versions, `*` wildcards,
`^` and `~`, comparison operators, hyphen ranges, AND (space or comma) and OR (`||`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PACKAGE = "magento/mcom-connector"
MODULE_PACKAGES = ("magento/module-inventory-message-bus", "magento/module-sales-message-bus", "magento/module-catalog-message-bus")
OLD_REPOSITORY_HOST = "mcom-connector.bcn.magento.com"
OLD_REPOSITORY = f"https://{OLD_REPOSITORY_HOST}"
NEW_REPOSITORY_HOST = "repo.magento.com"
NEW_REPOSITORY = f"https://{NEW_REPOSITORY_HOST}/"
REPOSITORY_CHANGE = "4.3.0"
COMMERCE_LINE = {2: "2.2", 3: "2.3"}  # connector major -> Magento Commerce minor line [doc]
COMMERCE_PACKAGES = ("magento/product-community-edition", "magento/product-enterprise-edition", "magento/magento-cloud-metapackage")

Version = tuple[int, int, int]
_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-?(?:p|patch)\d*)?\Z", re.IGNORECASE)


@dataclass(frozen=True)
class KnownBug:
    title: str
    affected: str  # in words
    fix: str

    def hits(self, version: Version) -> bool:
        if self is GET_MODE:
            return (3, 1, 1) <= version < (3, 3, 0)
        if self is EXPORT_ORDER_404:
            return version in ((2, 3, 0), (2, 4, 0), (3, 2, 0), (3, 3, 0))
        return False


GET_MODE = KnownBug(
    "getMode() on null when magento.inventory.source_management messages arrive",
    "3.1.1 to 3.2.x",
    "update to 3.3.x or later; the workaround is to empty the queue: delete from mcom_api_messages;",
)
EXPORT_ORDER_404 = KnownBug(
    "the order view's Export Order button answers HTTP 404",
    "2.3.0, 2.4.0, 3.2.0 and 3.3.0",
    "update to 3.4.0 (Commerce 2.3.x) or 2.5 (Commerce 2.2.x); meanwhile use bin/magento oms:orders:sync <increment id>",
)
KNOWN_BUGS = (GET_MODE, EXPORT_ORDER_404)


def parse(text: str) -> Version:
    """'4.3' -> (4, 3, 0); 'v3.2.1' -> (3, 2, 1). A fourth part or a '-p1' patch suffix is ignored."""
    match = _VERSION.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a version like 4.3.0.")
    return int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0)


def show(version: Version) -> str:
    return ".".join(str(part) for part in version)


def bugs(version: str | Version) -> list[KnownBug]:
    v = parse(version) if isinstance(version, str) else version
    return [bug for bug in KNOWN_BUGS if bug.hits(v)]


def needs_new_repository(version: str | Version) -> bool:
    v = parse(version) if isinstance(version, str) else version
    return v >= parse(REPOSITORY_CHANGE)


def satisfies(version: str | Version, constraint: str) -> bool:
    """Does the Composer constraint allow this version? ValueError for syntax momlab does not read."""
    v = parse(version) if isinstance(version, str) else version
    text = str(constraint).strip()
    if not text:
        raise ValueError("An empty version constraint; write one such as ^4.3.")
    if "@" in text or "dev-" in text:
        raise ValueError(f"{constraint!r}: stability flags and dev branches are not versions; use a release constraint such as ^4.3.")
    return any(_all(v, part.strip()) for part in re.split(r"\s*\|\|?\s*", text))


def _all(v: Version, text: str) -> bool:
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text)
    if hyphen:
        low, high = hyphen.groups()
        return parse(low) <= v and _upper(v, high)
    parts = [p for p in re.split(r"\s*,\s*|\s+", text) if p]
    # "> = 1.0" style spacing: join a lone operator with the version after it
    joined, pending = [], ""
    for part in parts:
        if re.fullmatch(r"[<>=!^~]+", part):
            pending += part
            continue
        joined.append(pending + part)
        pending = ""
    if pending:
        raise ValueError(f"{text!r}: the operator {pending!r} has no version after it.")
    return all(_one(v, part) for part in joined)


def _upper(v: Version, high: str) -> bool:
    count = len(high.lstrip("v").split("."))
    top = parse(high)
    if count == 1:
        return v < (top[0] + 1, 0, 0)
    if count == 2:
        return v < (top[0], top[1] + 1, 0)
    return v <= top


def _one(v: Version, text: str) -> bool:
    if text in ("*", "x"):
        return True
    match = re.fullmatch(r"(\^|~|>=|<=|>|<|!=|==|=)?\s*(v?[\d.*xX]+(?:-?p\d+)?)", text)
    if not match:
        raise ValueError(f"{text!r} is not a version constraint momlab can read (e.g. ^4.3, ~3.4.0, >=3.3 <4.0, 4.3.*).")
    op, raw = match.group(1) or "", match.group(2)
    if re.search(r"[*xX]", raw):
        fixed = [int(p) for p in raw.lstrip("v").split(".") if p not in ("*", "x", "X")]
        if op not in ("", "=", "=="):
            raise ValueError(f"{text!r}: a wildcard version cannot take the operator {op!r}.")
        return list(v[: len(fixed)]) == fixed
    count = len(raw.lstrip("v").split("."))
    target = parse(raw)
    if op == "^":
        if target[0] > 0 or count == 1:
            return target <= v < (target[0] + 1, 0, 0)
        if target[1] > 0 or count == 2:
            return target <= v < (0, target[1] + 1, 0)
        return target <= v < (0, 0, target[2] + 1)
    if op == "~":
        if count <= 2:
            return target <= v < (target[0] + 1, 0, 0)
        return target <= v < (target[0], target[1] + 1, 0)
    if op in ("", "=", "=="):
        return v == target
    return {">=": v >= target, "<=": v <= target, ">": v > target, "<": v < target, "!=": v != target}[op]


def lowest(constraint: str, candidates: list[str]) -> str | None:
    """The lowest of `candidates` the constraint allows (what a fresh install could resolve to)."""
    allowed = sorted((parse(c), c) for c in candidates if satisfies(c, constraint))
    return allowed[0][1] if allowed else None
