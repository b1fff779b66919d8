"""Client-chosen ids for Unified Catalog objects.

Every create sends the id it wants (`x-ms-mutability: create`), and that id is a pure function of the
object: `uuid5(NAMESPACE, "<project>/<kind>/<natural key>")`, where the natural key is the object's name
(a data product, CDE, domain or term name; `dataset` for a data asset and `dataset.column` for a column).
A create whose response was lost is retried with the same id, so the service answers 409 (duplicate id)
instead of making a second object; the retry then reads the object back and converges. The same files in
another project (`project:` in smartflow.yaml) give other ids, so two projects never collide.
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("5b0c6f5e-3d1a-5c36-9a8e-7f1c2b9d4e60")


def object_id(project: str, kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{project}/{kind}/{key}"))
