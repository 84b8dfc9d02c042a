"""Pure dependency-graph logic over task numbers: cycles, waves, reachability, blocked sets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

Graph = Mapping[int, Sequence[int]]  # task number -> the task numbers it depends on


def find_cycle(graph: Graph) -> list[int] | None:
    """Return one dependency cycle as a closed path [a, b, ..., a], or None."""
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(graph, white)
    for start in sorted(graph):
        if color[start] != white:
            continue
        stack: list[tuple[int, Iterable[int]]] = [(start, iter(graph[start]))]
        path = [start]
        color[start] = grey
        while stack:
            node, children = stack[-1]
            advanced = False
            for child in children:
                if child not in color:
                    continue
                if color[child] == grey:
                    return [*path[path.index(child) :], child]
                if color[child] == white:
                    color[child] = grey
                    stack.append((child, iter(graph[child])))
                    path.append(child)
                    advanced = True
                    break
            if not advanced:
                color[node] = black
                stack.pop()
                path.pop()
    return None


def topological_order(graph: Graph) -> list[int]:
    """Dependencies before dependents, ties by task number. The graph must be acyclic."""
    levels = waves(graph)
    return [n for level in levels for n in level]


def waves(graph: Graph) -> list[list[int]]:
    """Group tasks by dependency level: wave k holds tasks whose deepest dependency is in wave k-1."""
    level: dict[int, int] = {}
    for node in sorted(graph):
        _assign_level(graph, node, level)
    grouped: dict[int, list[int]] = {}
    for node, lvl in level.items():
        grouped.setdefault(lvl, []).append(node)
    return [sorted(grouped[k]) for k in sorted(grouped)]


def _assign_level(graph: Graph, root: int, level: dict[int, int]) -> None:
    stack = [root]
    while stack:
        node = stack[-1]
        if node in level:
            stack.pop()
            continue
        pending = [d for d in graph[node] if d in graph and d not in level]
        if pending:
            stack.extend(pending)
            continue
        deps = [level[d] for d in graph[node] if d in graph]
        level[node] = 1 + max(deps, default=-1)
        stack.pop()


class Reachability:
    """Answers "is there a dependency path between a and b" in O(1) after one pass over the graph."""

    def __init__(self, graph: Graph) -> None:
        self._position = {n: i for i, n in enumerate(sorted(graph))}
        self._ancestors: dict[int, int] = {}
        for node in topological_order(graph):
            bits = 0
            for dep in graph[node]:
                if dep in graph:
                    bits |= (1 << self._position[dep]) | self._ancestors[dep]
            self._ancestors[node] = bits

    def depends_on(self, a: int, b: int) -> bool:
        """True when a transitively depends on b."""
        return bool(self._ancestors[a] >> self._position[b] & 1)

    def ordered(self, a: int, b: int) -> bool:
        return self.depends_on(a, b) or self.depends_on(b, a)


def dependents_closure(graph: Graph, roots: Iterable[int]) -> set[int]:
    """Every task that transitively depends on one of the roots (roots excluded)."""
    children: dict[int, list[int]] = {n: [] for n in graph}
    for node, deps in graph.items():
        for dep in deps:
            if dep in children:
                children[dep].append(node)
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen - set(roots)


def critical_path(graph: Graph, weight: Mapping[int, float]) -> tuple[float, list[int]]:
    """The longest weighted dependency chain: its total weight and its tasks in order."""
    best: dict[int, tuple[float, int | None]] = {}
    for node in topological_order(graph):
        prev = max(
            ((best[d][0], d) for d in graph[node] if d in best), default=(0.0, None), key=lambda x: x[0]
        )
        best[node] = (prev[0] + weight.get(node, 0.0), prev[1])
    if not best:
        return 0.0, []
    end = max(best, key=lambda n: best[n][0])
    total = best[end][0]
    chain: list[int] = []
    cursor: int | None = end
    while cursor is not None:
        chain.append(cursor)
        cursor = best[cursor][1]
    return total, chain[::-1]
