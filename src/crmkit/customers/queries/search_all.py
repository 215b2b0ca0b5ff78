"""Global search: one search box over customers, contacts and the records of other areas.

A sales rep types ``zhang``, ``北京华为`` or a phone number once and expects every
customer, contact, lead and opportunity it names. :func:`global_search` runs one
search per *kind* in one transaction and returns at most ``limit_per_kind`` hits of
each, every kind filtered by the actor's ``view`` scope on its resource, so a rep
never sees a record she could not open.

Customers and contacts are searched here (the pinyin, initials, character and
caller-ID keys of :mod:`crmkit.customers.model.search_keys`). Areas that build on customers
(leads and opportunities in :mod:`crmkit.pipeline`) add their kinds with
:func:`register_search_part` when they are imported, so this module never imports
them. A kind whose searched fields are hidden from the actor is left out: filtering
on a hidden field would reveal its values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from uuid import UUID

import attrs

from crmkit.crm import Crm
from crmkit.customers.model.contacts import Contact
from crmkit.customers.model.customer import Customer
from crmkit.customers.model.names import fold_text
from crmkit.customers.model.phones import caller_id_query
from crmkit.customers.queries._readers import CONTACT, RESOURCE, customer_reader
from crmkit.customers.queries.search_ranking import find_by_routes
from crmkit.customers.queries.search_routes import _looks_like_phone, pinyin_query, search_routes
from crmkit.customers.queries.search_text import check_search_text
from crmkit.kernel.actor import Actor
from crmkit.kernel.i18n import N_
from crmkit.kernel.invalid import invalid
from crmkit.kernel.query import FALSE, TRUE, Expr, F, Order, Query, and_, or_
from crmkit.ports import UnitOfWork
from crmkit.rules.permissions import grants_for, guarded
from crmkit.rules.permissions.model import Grants

__all__ = [
    "SearchHit",
    "SearchPart",
    "SearchResults",
    "global_search",
    "name_query",
    "prefix_variants",
    "register_search_part",
    "searchable",
]

#: The most hits of one kind a search may ask for; a search box shows a handful.
MAX_PER_KIND = 100


@attrs.frozen
class SearchHit:
    """One record a global search found.

    Attributes:
        kind: what it is (``"customer"``, ``"contact"``, ``"lead"``, ``"opportunity"``, ...).
        id: its id.
        title: the text to show for it (its name).
        customer_id: the customer it belongs to, ``None`` when it has none (an open lead).
    """

    kind: str
    id: UUID
    title: str
    customer_id: UUID | None


SearchPart = Callable[[UnitOfWork, Grants, str, int], list[SearchHit]]
"""Searches one kind: ``search(uow, grants, text, limit) -> hits``.

It runs in the search's transaction, gets the stripped, non-blank text and must
return at most ``limit`` hits, filtered by ``grants`` (``grants.restrict(query,
"view", resource)``) and without filtering on fields hidden from the actor (see
:func:`searchable`).
"""

_PARTS: dict[str, SearchPart] = {}


def register_search_part(kind: str, search: SearchPart) -> None:
    """Add a kind of record to every global search (areas call this at import).

    Kinds are searched, and their hits returned, in the order they were registered;
    registering a kind again replaces its search.

    Args:
        kind: the kind its hits carry (``"lead"``).
        search: finds records of that kind (see :data:`SearchPart`).
    """
    _PARTS[kind] = search


@attrs.frozen
class SearchResults:
    """What a global search found, kind by kind in registration order.

    Attributes:
        text: the text searched for.
        hits: every hit; hits of one kind are together, in the order their kind ranks them.
    """

    text: str
    hits: tuple[SearchHit, ...] = ()

    def of(self, kind: str) -> tuple[SearchHit, ...]:
        """The hits of one kind (empty when there were none or the kind is unknown)."""
        return tuple(hit for hit in self.hits if hit.kind == kind)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds that have at least one hit, in result order."""
        return tuple(dict.fromkeys(hit.kind for hit in self.hits))

    def __iter__(self) -> Iterator[SearchHit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)


def searchable(grants: Grants, resource: str, expr: Expr, shown: Iterable[str] = ()) -> bool:
    """Whether ``expr`` filters only on fields of ``resource`` the actor may see.

    A part that would filter on a hidden field returns no hits instead of refusing the
    whole search (its matches would reveal the hidden value).

    Args:
        grants: the actor's grants.
        resource: the permission resource of the records searched.
        expr: the filter the part runs.
        shown: fields the hits show besides those filtered on (the title's field).
    """
    return grants.can_filter(resource, expr, shown)


def prefix_variants(text: str) -> tuple[str, ...]:
    """The spellings a case-sensitive prefix match on a stored name should try.

    Names are stored as entered and the filter language matches prefixes
    case-sensitively, so ``acme`` also tries ``Acme`` (title case). Characters have no
    case, so Chinese text is tried as typed.

    Examples:
        >>> prefix_variants("acme corp")
        ('acme corp', 'Acme Corp')
        >>> prefix_variants("华为")
        ('华为',)
    """
    return tuple(dict.fromkeys((text, text.title())))


def global_search(crm: Crm, actor: Actor, text: str, *, limit_per_kind: int = 10) -> SearchResults:
    """Customers, contacts and every registered kind matching ``text``, within the actor's scope.

    Args:
        crm: the CRM handle.
        actor: who searches; each kind is limited to what they may ``view``.
        text: what was typed: pinyin, initials, characters, a name prefix or phone digits.
        limit_per_kind: the most hits of each kind, 1..100.

    Returns:
        The hits; none for blank text.

    Raises:
        ValidationError: ``limit_per_kind`` is outside 1..100, or ``text`` is longer
            than :data:`~crmkit.customers.queries.search_text.MAX_SEARCH_TEXT` characters.
    """
    if not 1 <= limit_per_kind <= MAX_PER_KIND:
        raise invalid(
            "search", "limit_per_kind", N_("must be between 1 and {maximum}"), maximum=MAX_PER_KIND
        )
    typed = check_search_text(text)
    if not typed:
        return SearchResults(text=text)

    def work(uow: UnitOfWork) -> SearchResults:
        grants = grants_for(uow, actor)
        hits: list[SearchHit] = []
        for search in list(_PARTS.values()):
            hits += search(uow, grants, typed, limit_per_kind)[:limit_per_kind]
        return SearchResults(text=text, hits=tuple(hits))

    return guarded(crm, actor, work, read_only=True)


# -- the customers area's own kinds ------------------------------------------------------------


def _search_customers(uow: UnitOfWork, grants: Grants, text: str, limit: int) -> list[SearchHit]:
    reader = customer_reader(uow, grants)
    # Hits show the name and come in pinyin order: nothing to show without the name.
    if not searchable(grants, RESOURCE, TRUE, shown=("name", "pinyin_full")):
        return []
    # A route through a hidden field (phone digits for a reader the phone is hidden
    # from) is not tried; the name routes still answer.
    routes = reader.routes(search_routes(text), lambda r: and_(r.where, r.walk or TRUE))
    if not routes:
        return []
    found = find_by_routes(uow.repository(Customer), reader.scope(), routes, limit=limit)
    return [SearchHit("customer", c.id, c.name, c.id) for c in found]


def name_query(
    text: str,
    *,
    keyed: Sequence[tuple[str, Callable[[str], str]]] = (("name", str),),
    phone_field: str | None = "phone_key",
) -> Expr:
    """Records by name: pinyin or initials for letters, the name itself for characters.

    For records that store the pinyin keys of their name (``pinyin_full``,
    ``pinyin_initials``, see :mod:`crmkit.customers.model.search_keys`) and the caller-ID key of
    their phone: contacts, leads, opportunities.

    Args:
        text: the stripped search text.
        keyed: the fields characters are matched against as a prefix, each with how the
            text is turned into that field's form (``("name", str)`` as typed, in title
            case too; ``("name_key", normalize_name)`` for a normalised key).
        phone_field: the stored caller-ID key that phone numbers are matched against,
            ``None`` for records without a phone.
    """
    text = check_search_text(text)
    if phone_field is not None and _looks_like_phone(text):
        return caller_id_query(text, field=phone_field)
    folded = fold_text(text)
    if not folded:  # only punctuation, symbols or emoji: nothing to match
        return FALSE
    if folded.isascii():
        # Latin letters and digits: pinyin ("zhangwei"), initials ("zw"), any mix of
        # the two ("zwei", "zhangw") or a Latin name, kept whole in both keys.
        return pinyin_query(folded)
    return or_(
        *(
            F(field).startswith(variant)
            for field, form in keyed
            for variant in prefix_variants(form(text))
        )
    )


def _search_contacts(uow: UnitOfWork, grants: Grants, text: str, limit: int) -> list[SearchHit]:
    # Contacts keep the pinyin keys of their name read as a person's (曾 -> zeng).
    where = and_(F("deleted_at").is_null(), name_query(text))
    if not searchable(grants, CONTACT, where, shown=("name",)):
        return []
    query = Query(where=where, order_by=(Order("pinyin_full"), Order("id")), limit=limit)
    found = uow.repository(Contact).query(grants.restrict(query, "view", CONTACT))
    return [SearchHit("contact", c.id, c.name, c.customer_id) for c in found]


register_search_part("customer", _search_customers)
register_search_part("contact", _search_contacts)
