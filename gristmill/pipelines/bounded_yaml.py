"""YAML loading with bounded alias expansion: a config cannot be a "billion laughs" bomb.

``yaml.safe_load`` builds aliases as shared references, so a ten-line file can stand for
billions of nodes; the first code that walks the result (validation, fingerprints, JSON
dumps) then exhausts memory or never finishes. Here the document is composed first, its
*expanded* size (nodes, and characters of scalars, counting every alias as the copy it
stands for) is measured with one memoised pass over the distinct nodes, and only a
document within :data:`MAX_EXPANDED_NODES` and :data:`MAX_EXPANDED_CHARS` is constructed.
Recursive aliases are refused. This bound holds for the whole file, whatever the key a
bomb hides under.
"""

from __future__ import annotations

from typing import Any

import yaml

#: nodes of the document once every alias is expanded (a large config has a few thousand)
MAX_EXPANDED_NODES = 200_000
#: characters of all scalars once every alias is expanded
MAX_EXPANDED_CHARS = 16 * 2**20


class YamlTooLarge(ValueError):
    """The document expands beyond the budget, or refers to itself."""


def load_bounded_yaml(text: str) -> Any:
    """Parse one YAML document with ``SafeLoader`` semantics, refusing alias bombs."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        nodes, chars = expanded_size(node)
        if nodes > MAX_EXPANDED_NODES or chars > MAX_EXPANDED_CHARS:
            raise YamlTooLarge(
                f"aliases expand the document to {nodes:,} nodes and {chars:,} characters; "
                f"at most {MAX_EXPANDED_NODES:,} nodes and {MAX_EXPANDED_CHARS:,} characters "
                "are allowed (an alias bomb?)"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def expanded_size(root: yaml.Node) -> tuple[int, int]:
    """``(nodes, scalar characters)`` of ``root`` with aliases expanded, computed over
    distinct nodes only (a shared node is measured once and counted at every use)."""
    sizes: dict[int, tuple[int, int]] = {}
    in_progress: set[int] = set()
    # iterative post-order walk: deep nesting must not hit Python's recursion limit
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if not children_done:
            if key in in_progress:
                raise YamlTooLarge(f"line {node.start_mark.line + 1}: a recursive alias")
            in_progress.add(key)
            stack.append((node, True))
            for child in children:
                if id(child) in in_progress:
                    raise YamlTooLarge(f"line {child.start_mark.line + 1}: a recursive alias")
                if id(child) not in sizes:
                    stack.append((child, False))
            continue
        nodes, chars = 1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0
        for child in children:
            child_nodes, child_chars = sizes[id(child)]
            nodes += child_nodes
            chars += child_chars
        sizes[key] = (min(nodes, 2**62), min(chars, 2**62))
        in_progress.discard(key)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
