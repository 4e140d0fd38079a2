"""Writing many child pages of one parent at once: the importer's only reliance on page internals.

Wagtail's `add_child` re-reads the parent's last child and saves each page (and its subclass row)
on its own, and `save_revision` writes a revision and saves the page again: several statements
per story. Here a batch of stories costs a few bulk statements in all, which is what keeps an
import above 500 stories/s on SQLite (`bench/import_stories.py` measures it).

Everything here that knows treebeard's materialised paths (a parent's path plus one fixed-width
step per level, `numchild` kept by hand) or Django's multi-table rows (a `Page` row, then the
subclass row sharing its key, which `bulk_create` refuses) is in this module; `tests/stories/
test_bulk_pages.py` pins it against what `add_child` and `Page.find_problems` say.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import F
from django.utils import timezone
from modelcluster.models import (
    get_all_child_m2m_relations,
    get_all_child_relations,
    get_serializable_data_for_fields,
)
from wagtail.models import Page, Revision


class ChildPaths:
    """Tree paths for new children of `parent`, in the order `add_child` would give them."""

    def __init__(self, parent: Page):
        self.parent_path = parent.path
        self.depth = parent.depth + 1
        last_path = (
            Page.objects.filter(path__startswith=parent.path, depth=self.depth)
            .order_by("-path")
            .values_list("path", flat=True)
            .first()
        )
        self.next_step = (Page._str2int(last_path[-Page.steplen :]) + 1) if last_path else 1

    def allocate(self) -> str:
        path = Page._get_path(self.parent_path, self.depth, self.next_step)
        self.next_step += 1
        return path


def sibling_slugs(parent: Page) -> set[str]:
    """The slugs the parent's children use now."""
    return set(
        Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1).values_list(
            "slug", flat=True
        )
    )


def insert_pages(pages: Sequence[Page]) -> None:
    """Insert new pages of one Page subclass (paths allocated, `numchild` 0): the Page rows, then theirs.

    Sets each page's key. The parent's `numchild` is the caller's (`add_children_count`).
    """
    if not pages:
        return
    model = type(pages[0])
    page_fields = [field for field in Page._meta.concrete_fields if not field.primary_key]
    rows = [Page(**{field.attname: getattr(page, field.attname) for field in page_fields}) for page in pages]
    Page.objects.bulk_create(rows, batch_size=500)
    for page, row in zip(pages, rows, strict=True):
        page.page_ptr_id = page.pk = page.id = row.pk
    own_fields = list(model._meta.local_concrete_fields)
    size = max(1, connection.ops.bulk_batch_size(own_fields, pages))
    for start in range(0, len(pages), size):
        model._base_manager._insert(pages[start : start + size], fields=own_fields)


def add_children_count(parent: Page, count: int) -> None:
    """Record `count` new children in the parent's `numchild` (treebeard keeps it by hand)."""
    if count:
        Page.objects.filter(pk=parent.pk).update(numchild=F("numchild") + count)


def update_pages(pages: Sequence[Page], fields: Sequence[str]) -> None:
    """Write these fields (of the subclass and of Page) for pages that exist: one UPDATE per table.

    The statement is run for every page with `executemany`. `bulk_update` does the same job with
    CASE expressions, which Django builds in Python: profiled on a 1,000-story import, it alone
    took a quarter of the import's time (1.5 of 5.8 s), for three revision columns.
    """
    if not pages:
        return
    quote = connection.ops.quote_name
    page_model = type(pages[0])
    for model in [*page_model._meta.get_parent_list(), page_model]:
        columns = [
            model_field
            for model_field in model._meta.local_concrete_fields
            if model_field.name in fields or model_field.attname in fields
        ]
        if not columns:
            continue
        sql = "UPDATE {} SET {} WHERE {} = %s".format(
            quote(model._meta.db_table),
            ", ".join(f"{quote(column.column)} = %s" for column in columns),
            quote(model._meta.pk.column),
        )
        rows = [
            [column.get_db_prep_save(getattr(page, column.attname), connection) for column in columns]
            + [page.pk]
            for page in pages
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def add_revisions(pages: Sequence[Page], *, new: bool, many_to_many: dict[str, dict[int, list[int]]]) -> None:
    """A new revision for each page, as `save_revision` would make (and `publish`, for live pages).

    `many_to_many` is what the pages' many-to-many relations now hold (relation name -> page key
    -> related keys), as the caller just wrote them, so nothing is read back. Child relations
    (transcript segments, comments) are read for pages that existed before (`new` False) and are
    empty for new ones. Sets `latest_revision` and, on live pages, `live_revision`, and writes
    those fields for new pages; for existing ones the caller's `update_pages` writes them
    (`REVISION_FIELDS`).
    """
    if not pages:
        return
    model = type(pages[0])
    children = {} if new else _child_items(model, pages)
    content_type = ContentType.objects.get_for_model(model)
    base_content_type = ContentType.objects.get_for_model(Page)
    now = timezone.now()
    revisions = [
        Revision(
            content_type=content_type,
            base_content_type=base_content_type,
            object_id=str(page.pk),
            created_at=now,
            content=_content(page, many_to_many, children),
            object_str=str(page),
        )
        for page in pages
    ]
    Revision.objects.bulk_create(revisions, batch_size=500)
    for page, revision in zip(pages, revisions, strict=True):
        page.latest_revision = revision
        page.latest_revision_created_at = now
        page.live_revision = revision if page.live else None
    if new:
        update_pages(pages, REVISION_FIELDS)


def _child_items(model, pages: Sequence[Page]) -> dict[str, dict[int, list]]:
    """Each child relation's items (transcript segments, comments) of these pages, by page key.

    One query per relation, in the relation's own order; prefetching through modelcluster's
    managers instead cost a third of an update batch.
    """
    keys = [page.pk for page in pages]
    found: dict[str, dict[int, list]] = {}
    for relation in get_all_child_relations(model):
        by_page = found.setdefault(relation.get_accessor_name(), {})
        items = relation.related_model._default_manager.filter(**{f"{relation.field.name}__in": keys})
        for item in items:
            by_page.setdefault(getattr(item, relation.field.attname), []).append(item)
    return found


def _content(page: Page, many_to_many: dict[str, dict[int, list[int]]], children: dict) -> dict:
    """What `page.serializable_data()` gives, with the many-to-many relations as just written.

    Assigning them in memory instead (modelcluster's `page.themes = [...]`) costs more than the
    rest of the revision; `test_bulk_pages` checks that both give the same content.
    """
    content = get_serializable_data_for_fields(page)
    for relation in get_all_child_relations(type(page)):
        accessor = relation.get_accessor_name()
        content[accessor] = [
            item.serializable_data()
            if hasattr(item, "serializable_data")
            else get_serializable_data_for_fields(item)
            for item in children.get(accessor, {}).get(page.pk, [])
        ]
    for field in get_all_child_m2m_relations(type(page)):
        if field.serialize:
            content[field.name] = many_to_many.get(field.name, {}).get(page.pk, [])
    return content


REVISION_FIELDS = ("latest_revision", "latest_revision_created_at", "live_revision")
