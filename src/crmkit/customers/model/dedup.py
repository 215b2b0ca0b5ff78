"""Duplicate customers: entry control and batch detection.

Sales teams enter the same company many ways; both tools here compare the normal form of
names (:func:`~crmkit.customers.model.names.normalize_name`), and both are pure:

- :func:`check_duplicate_name` applies a tenant's :class:`DuplicatePolicy` (block, warn
  or allow) when a customer is entered, comparing exact normalised keys.
- :func:`find_duplicates` scans a whole customer base: it puts records into blocks that
  share a normalised phone (their own or their contacts'), an email, the name's pinyin
  initials or a name key within one edit, scores only pairs inside a block with
  rapidfuzz, and returns :class:`DuplicateCandidate` pairs with a score and the reasons.
  One edit in a short trade name (see :func:`trade_name`) counts only with a shared
  phone, email or region: "华创科技" and "华鼎科技" are as often two companies as one
  with a typo.

A phone is the strongest everyday sign that two records are one company, and caller ID
already opens a customer from its contacts' phones. So a number one customer has and
another customer's contact has (or two customers' contacts share) counts too, but less
than a number both customers have as their own: a contact's mobile may belong to a
person who deals for several companies (an agent, a group's accountant). It adds
:data:`CONTACT_PHONE_BONUS` to the name's score instead of :data:`OWN_CONTACT_BONUS`,
and never makes two people one.
"""

from __future__ import annotations

import abc
import enum
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Self

import attrs
from rapidfuzz.distance import Levenshtein

from crmkit.customers.model.contacts import PHONE_KEY_FIELDS
from crmkit.customers.model.names import normalize_name, split_region
from crmkit.kernel.errors import ValidationError
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid

__all__ = [
    "CONTACT_PHONE_BONUS",
    "INDUSTRY_WORDS",
    "OWN_CONTACT_BONUS",
    "DedupRecord",
    "DuplicateCandidate",
    "DuplicateCheck",
    "DuplicateOutcome",
    "DuplicatePolicy",
    "check_duplicate_name",
    "find_duplicates",
    "trade_name",
]


class DuplicatePolicy(enum.Enum):
    """What entering a customer whose normalised name already exists does."""

    BLOCK = "block"
    """Refuse the entry."""
    WARN = "warn"
    """Accept it and report the existing customers, so the user can reconsider."""
    ALLOW = "allow"
    """Accept it without looking."""


class DuplicateOutcome(abc.ABC):
    """What a duplicate check at entry found, under the policy it applied.

    The part every such check shares (a customer's name here, a lead's name, phone and
    email in the pipeline): a subclass holds ``policy`` and ``matches`` and says in
    :meth:`blocked` how its refusal reads.
    """

    __slots__ = ()

    policy: DuplicatePolicy
    matches: tuple[Any, ...]

    @property
    def is_duplicate(self) -> bool:
        """Whether an existing record shares a key."""
        return bool(self.matches)

    @property
    def is_blocked(self) -> bool:
        """Whether the policy refuses this entry."""
        return self.is_duplicate and self.policy is DuplicatePolicy.BLOCK

    @abc.abstractmethod
    def blocked(self) -> ValidationError:
        """The error that refuses a blocked entry."""

    def require(self) -> Self:
        """Return ``self`` unless the entry is blocked.

        Raises:
            ValidationError: the policy is ``BLOCK`` and a match exists (see :meth:`blocked`).
        """
        if self.is_blocked:
            raise self.blocked()
        return self


@attrs.frozen
class DuplicateCheck(DuplicateOutcome):
    """The outcome of a duplicate-name check at entry.

    Attributes:
        key: the normalised name that was compared.
        policy: the policy that was applied.
        matches: ids of existing customers with the same key (empty under ``ALLOW``).
    """

    key: str
    policy: DuplicatePolicy
    matches: tuple[Hashable, ...] = ()

    def blocked(self) -> ValidationError:
        """A customer with the key exists (field ``name``)."""
        return invalid(
            "customer",
            "name",
            N_("duplicates an existing customer ({count} found)"),
            count=len(self.matches),
        )


def check_duplicate_name(
    name: str,
    existing: Iterable[tuple[Hashable, str]],
    policy: DuplicatePolicy = DuplicatePolicy.WARN,
) -> DuplicateCheck:
    """Compare a new customer's name with existing ones under a policy.

    A service looks existing keys up through the indexed ``name_key`` field
    (``F("name_key").eq(normalize_name(name))``) and passes the hits here.

    Args:
        name: the name being entered.
        existing: ``(id, name_key)`` of customers that may share the key; keys that differ
            are ignored, so a broader candidate list is harmless.
        policy: block, warn or allow.

    Returns:
        The check; call :meth:`DuplicateCheck.require` to raise when blocked.
    """
    key = normalize_name(name)
    if policy is DuplicatePolicy.ALLOW:
        return DuplicateCheck(key, policy)
    return DuplicateCheck(key, policy, tuple(cid for cid, other in existing if other == key))


# --- batch detection -----------------------------------------------------------------------


@attrs.frozen
class DedupRecord:
    """What batch detection needs to know about one customer.

    Attributes:
        id: the customer's id.
        name_key: :func:`normalize_name` of the name.
        pinyin_full: the key's full pinyin (``beijinghuaweikeji``); catches homophone typos.
        pinyin_initials: its initials (``bjhwkj``); a blocking key.
        phones: caller-ID keys of the customer's phones (see ``crmkit.customers.model.phones``).
        emails: email addresses.
        person: an individual rather than a company; people share names, so a name alone
            never makes two people duplicates.
        tax_id: the compact tax id (unified social credit code); one tax id is one
            company, whatever the two names say.
        contact_phones: caller-ID keys of its contacts' phones (not its own): a weaker
            sign than its own phones (see the module's notes).
    """

    id: Hashable
    name_key: str
    pinyin_full: str = ""
    pinyin_initials: str = ""
    phones: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    emails: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    person: bool = False
    tax_id: str | None = None
    contact_phones: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    @classmethod
    def from_customer(cls, customer: Any, contacts: Iterable[Any] = ()) -> DedupRecord:
        """Build the record from a ``Customer``, its stored search keys and its contacts.

        Args:
            customer: the customer.
            contacts: its contacts (``list_contacts``), whose stored phone keys join the
                record as ``contact_phones``; a phone hidden from the reader is ``None``
                there and is left out.
        """
        own = (customer.phone_key,) if customer.phone_key else ()
        keys = {getattr(c, field, None) for c in contacts for field in PHONE_KEY_FIELDS}
        return cls(
            id=customer.id,
            name_key=customer.name_key,
            pinyin_full=customer.pinyin_full,
            pinyin_initials=customer.pinyin_initials,
            phones=own,
            emails=(customer.email.strip().casefold(),) if customer.email else (),
            person=customer.kind.value == "individual",
            tax_id=customer.tax_id,
            contact_phones=tuple(sorted(k for k in keys if k and k not in own)),
        )


@attrs.frozen
class DuplicateCandidate:
    """Two customers that probably are one.

    Attributes:
        first, second: the two ids, in input order.
        score: 0..100; how alike they are.
        reasons: what they share: ``"tax_id"``, ``"phone"``, ``"email"``,
            ``"contact_phone"`` (a number one has as its own or a contact's and the
            other as a contact's), ``"name"`` (same key), ``"similar_name"``,
            ``"same_pinyin"``.
    """

    first: Hashable
    second: Hashable
    score: float
    reasons: tuple[str, ...]


#: Industry words that close a company name after its trade name ("华创" + "科技"), longest
#: first. Only used to find how long the distinctive trade name is.
INDUSTRY_WORDS: tuple[str, ...] = tuple(
    sorted(
        {
            *("科技", "技术", "信息技术", "网络科技", "电子科技", "生物科技", "环保科技"),
            *("智能科技", "新能源科技", "软件", "网络", "信息", "数据", "通信", "电子"),
            *("电气", "电器", "机械", "设备", "智能装备", "自动化", "仪器", "五金"),
            *("贸易", "商贸", "进出口", "国际贸易", "实业", "发展", "投资", "投资管理"),
            *("资产管理", "咨询", "管理咨询", "企业管理", "供应链管理", "物流", "运输"),
            *("医药", "医疗器械", "生物", "化工", "新材料", "材料", "建材", "建设"),
            *("建筑", "工程", "装饰", "房地产", "置业", "物业", "食品", "餐饮"),
            *("餐饮管理", "酒店", "农业", "服饰", "服装", "纺织", "传媒", "文化传播"),
            *("文化", "广告", "教育", "旅游", "汽车", "汽车销售", "汽车服务", "能源"),
            *("新能源", "环保", "印刷", "包装", "家具", "银行", "保险", "证券", "乐器"),
        },
        key=len,
        reverse=True,
    )
)
# Trade names this short (after region and industry) collide between companies.
_SHORT_TRADE = 2


def trade_name(rest: str) -> str:
    """The distinctive part of a name behind its region: without a closing industry word.

    ``"华创网络科技"`` -> ``"华创"``. A name that is only an industry word keeps it.

    Args:
        rest: a normalised name without its region (see :func:`split_region`).

    Returns:
        The trade name.
    """
    for word in INDUSTRY_WORDS:
        if rest.endswith(word) and len(rest) > len(word):
            return rest[: -len(word)]
    return rest


OWN_CONTACT_BONUS = 25.0
"""What a phone or email both customers have as their own adds to the name's score."""
CONTACT_PHONE_BONUS = 20.0
"""What a number shared only through a contact adds to the name's score."""

# Blocks larger than this say little (a very common initials string, a switchboard number
# shared by a group); scoring all their pairs would cost quadratic time for few finds.
MAX_BLOCK = 60


def _deletions(text: str) -> list[str]:
    # Two keys within one edit (insert, delete, substitute) share one of these.
    return [text[:i] + text[i + 1 :] for i in range(len(text))] if len(text) >= 3 else []


def _block_keys(record: DedupRecord, rest: str) -> list[tuple[str, str]]:
    # Contacts' phones share the namespace of customers' own: either meets the other.
    phones = (*record.phones, *record.contact_phones)
    keys = [("p", p) for p in phones] + [("e", e) for e in record.emails]
    if record.tax_id:
        keys.append(("t", record.tax_id))
    if record.person:
        keys.append(("n", record.name_key))
        return keys
    keys.append(("n", rest))
    # The same namespace as the key itself: "凯泰" (a letter dropped) meets "凯盈泰" through
    # the latter's deletion variant.
    keys += [("n", variant) for variant in _deletions(rest)]
    if len(record.pinyin_initials) >= 3:
        keys.append(("i", record.pinyin_initials))
    return keys


def _score(
    a: DedupRecord, b: DedupRecord, rest_a: str, rest_b: str, reg_a: str, reg_b: str
) -> tuple[float, tuple[str, ...]]:
    if a.tax_id and a.tax_id == b.tax_id:
        return 100.0, ("tax_id",)
    reasons: list[str] = []
    if set(a.phones) & set(b.phones):
        reasons.append("phone")
    if set(a.emails) & set(b.emails):
        reasons.append("email")
    own = bool(reasons)
    if not own and {*a.phones, *a.contact_phones} & {*b.phones, *b.contact_phones}:
        reasons.append("contact_phone")
    contact = bool(reasons)
    if a.name_key == b.name_key:
        reasons.append("name")
        name_score = 100.0
    else:
        # A region written on one side only ("华为科技" / "北京华为科技") is not a difference;
        # two different regions are (branches in two cities are two customers).
        same_place = not reg_a or not reg_b or reg_a == reg_b
        left, right = (rest_a, rest_b) if same_place else (a.name_key, b.name_key)
        name_score = 100.0 * Levenshtein.normalized_similarity(left, right)
        if len(left) >= 3 and len(right) >= 3 and Levenshtein.distance(left, right) == 1:
            # One typo in a name of some length. But a one-character difference in a
            # short trade name ("华创科技" / "华鼎科技") is just as often two companies:
            # then it counts only with something else shared, a phone, an email or the
            # same stated region.
            thin = min(len(trade_name(rest_a)), len(trade_name(rest_b))) <= _SHORT_TRADE
            if not thin or contact or (reg_a and reg_a == reg_b):
                name_score = max(name_score, 88.0)
        if a.pinyin_full and a.pinyin_full == b.pinyin_full:
            name_score = max(name_score, 95.0)
            reasons.append("same_pinyin")
        elif name_score >= 80:
            reasons.append("similar_name")
    if a.person or b.person:
        # People share names (two 王伟 are usually two people): only a shared phone or
        # email of their own makes two people one.
        if own:
            return (max(name_score, 90.0) if name_score >= 50 else 85.0), tuple(reasons)
        return min(name_score, 60.0), tuple(reasons)
    if contact:
        bonus = OWN_CONTACT_BONUS if own else CONTACT_PHONE_BONUS
        return min(100.0, name_score + bonus), tuple(reasons)
    return name_score, tuple(reasons)


def find_duplicates(
    records: Sequence[DedupRecord], *, threshold: float = 85.0
) -> list[DuplicateCandidate]:
    """Find probable duplicate pairs in a customer base without comparing every pair.

    Records are grouped into blocks by tax id, by each normalised phone (the customer's
    own and its contacts') and email, by the name key
    behind its region and every variant of it with one character deleted (so one typo
    still meets), and by the name's pinyin initials (so homophones meet). Only pairs that
    share a block are scored; blocks larger than ``MAX_BLOCK`` are skipped. A name one
    edit from another scores as a typo when the trade names are longer than two
    characters, or when the two also share a phone, an email or a stated region.

    Args:
        records: the customers, e.g. ``[DedupRecord.from_customer(c) for c in customers]``.
        threshold: the lowest score (0..100) reported.

    Returns:
        Candidate pairs, highest score first.
    """
    splits = [split_region(r.name_key) for r in records]
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        for key in set(_block_keys(record, splits[index][1])):
            blocks[key].append(index)
    seen: set[tuple[int, int]] = set()
    found: list[DuplicateCandidate] = []
    for members in blocks.values():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for pos, i in enumerate(members):
            for j in members[pos + 1 :]:
                if (i, j) in seen:
                    continue
                seen.add((i, j))
                a, b = records[i], records[j]
                score, why = _score(a, b, splits[i][1], splits[j][1], splits[i][0], splits[j][0])
                if score >= threshold:
                    found.append(DuplicateCandidate(a.id, b.id, round(score, 1), why))
    found.sort(key=lambda c: -c.score)
    return found
