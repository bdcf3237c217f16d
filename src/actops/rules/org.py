"""Organisation checks (ORG-2): manager chains computed from rows must end."""

from __future__ import annotations

from collections.abc import Mapping

from actops.records import Issue


def manager_loops(
    managers: Mapping[str, str | None],
    row_ids: Mapping[str, int],
    table: str = "员工",
    field: str = "直属上级",
) -> list[Issue]:
    """Report each employee whose chain of managers comes back to someone already on it."""
    issues = []
    for code in sorted(managers):
        seen = [code]
        cur = managers.get(code)
        while cur:
            if cur in seen:
                loop = " → ".join([*seen[seen.index(cur) :], cur])
                issues.append(
                    Issue(
                        table,
                        row_ids.get(code),
                        field,
                        managers.get(code),
                        f"上级链条形成循环（{loop}），请修正「{field}」",
                    )
                )
                break
            seen.append(cur)
            cur = managers.get(cur)
    return issues
