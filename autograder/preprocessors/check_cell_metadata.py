"""``CompiledCheckCellMetadata``: nbgrader's ``CheckCellMetadata`` with its JSON schema compiled once.

nbgrader validates every cell's nbgrader metadata with ``jsonschema.validate``, which checks the
schema itself against the meta-schema and builds a new validator on every call: ~50 ms for a
course notebook's 94 cells, twice per submission (before and after execution).  Here the same
rules run with one validator per process: the schema version checks and nbgrader's own
cell-type and duplicate-id rules are inherited unchanged, and a cell the schema rejects raises
the same ``ValidationError``.
"""
from __future__ import annotations

import traceback
from functools import cache

import jsonschema
from nbformat import NotebookNode
from nbgrader.nbgraderformat import MetadataValidator, SchemaTooNewError, SchemaTooOldError, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata


@cache
def _schema_validator() -> jsonschema.protocols.Validator:
    """nbgrader's current metadata schema (the only version it validates against), compiled."""
    schema = MetadataValidator().schema
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


class _CompiledSchemaCheck(BaseMetadataValidator):
    """The per-cell schema check of nbgrader's base validator, against the compiled schema."""

    def validate_cell(self, cell: NotebookNode) -> None:
        if "nbgrader" not in cell.metadata:
            return
        meta = cell.metadata["nbgrader"]
        version = meta.get("schema_version", 0)
        if version < self.schema_version:
            raise SchemaTooOldError(f"Outdated schema version: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        if version > self.schema_version:
            raise SchemaTooNewError(f"Schema version is too new: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        _schema_validator().validate(meta)


class _CompiledValidator(MetadataValidator, _CompiledSchemaCheck):
    """nbgrader's current validator; its ``super().validate_cell`` reaches the compiled schema check."""


class CompiledCheckCellMetadata(CheckCellMetadata):
    """``CheckCellMetadata`` (grade ids unique, metadata valid) with the schema compiled once."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        try:
            _CompiledValidator().validate_nb(nb)
        except ValidationError as exc:
            self.log.error(traceback.format_exc())
            raise ValidationError("Notebook failed to validate; the nbgrader metadata may be corrupted.") from exc
        return nb, resources
