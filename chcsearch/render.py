"""Render stage: library results as text or JSON for people and programs.

Pure functions from data to strings; the CLI decides where they go.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .model import PROBLEM_GROUPS, BuildSummary, Problem


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def problem_line(problem: Problem) -> str:
    return f"warning: {problem.location()}: [{problem.kind}] {problem.message}"


def _group_counts(problems: Iterable[Mapping[str, Any] | Problem]) -> dict[str, dict[str, int]]:
    groups: dict[str, dict[str, int]] = {}
    for item in problems:
        kind = item.kind if isinstance(item, Problem) else str(item["kind"])
        group = PROBLEM_GROUPS.get(kind, "other")
        kinds = groups.setdefault(group, {})
        kinds[kind] = kinds.get(kind, 0) + 1
    return groups


def summary_text(summary: BuildSummary) -> str:
    """The closing summary of an index run."""
    how = "rebuilt" if summary.rebuilt else "updated" if summary.changed else "unchanged"
    lines = [
        f"Index {summary.index_dir} {how} from {summary.site} ({summary.generator}) "
        f"in {summary.seconds:.1f} s" + (f": {summary.rebuild_reason}" if summary.rebuilt else ""),
        f"  pages      {summary.pages:>8,}",
        f"  PDFs       {summary.pdfs:>8,}  ({summary.pdf_pages:,} PDF pages)",
        f"  documents  {summary.documents:>8,}  ({summary.words:,} words)",
        f"  this run   {summary.files_read:,} files read, {summary.pdfs_extracted:,} PDFs extracted, "
        f"{summary.pdfs_from_cache:,} from cache; documents +{summary.docs_added:,} "
        f"~{summary.docs_updated:,} -{summary.docs_removed:,}",
    ]
    counts = summary.problem_counts()
    if counts:
        lines.append(
            f"  warnings   {len(summary.problems):>8,}  "
            + ", ".join(f"{k} {n}" for k, n in counts.items())
        )
    else:
        lines.append("  warnings          0")
    return "\n".join(lines)


def status_text(status: Mapping[str, Any]) -> str:
    """``chcsearch status`` for people."""
    counts = status.get("counts", {})
    run = status.get("last_run") or {}
    lines = [
        f"Index      {status['index_dir']} ({status['generation']}, schema version {status['schema_version']})",
        f"Source     {status['site']} ({status['generator']})",
        f"Last run   {run.get('finished', 'unknown')} ({run.get('seconds', 0):.1f} s, "
        f"{run.get('files_read', 0):,} files read, {run.get('pdfs_extracted', 0):,} PDFs extracted)",
        f"Documents  {counts.get('documents', 0):,}: {counts.get('pages', 0):,} pages, "
        f"{counts.get('pdfs', 0):,} PDFs with {counts.get('pdf_pages', 0):,} pages, "
        f"{counts.get('words', 0):,} words",
    ]
    problems = run.get("problems", [])
    if not problems:
        lines.append("Warnings   none")
        return "\n".join(lines)
    lines.append(f"Warnings   {len(problems):,} in the last run")
    by_group: dict[str, list[Mapping[str, Any]]] = {}
    for item in problems:
        by_group.setdefault(PROBLEM_GROUPS.get(str(item["kind"]), "other"), []).append(item)
    for group in sorted(by_group):
        items = by_group[group]
        lines.append(f"  {group} ({len(items)})")
        for item in items:
            where = f"{item['src_path']}:{item['line']}" if item.get("line") else item["src_path"]
            lines.append(f"    {where}: [{item['kind']}] {item['message']}")
    return "\n".join(lines)


def status_groups(problems: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    return _group_counts(problems)
