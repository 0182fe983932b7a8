"""Programming language of a source file, from its name, extension or shebang.

Names and extensions follow GitHub Linguist's ``languages.yml`` (the table The Stack and
StarCoder used to select files), reduced to one language per extension: ``.h`` is C,
``.m`` Objective-C, ``.inc`` C. Template suffixes (``.in``, ``.src``, ``.tmpl``,
``.template``, ``.j2``, ``.jinja``) are looked through, so ``config.h.in`` is C and
``loops.c.src`` (NumPy's templated C) is C. Files without an extension are recognised by
name (``Makefile``, ``Dockerfile``, ``README``, licence files) or by a ``#!`` line.
"""

from __future__ import annotations

import posixpath
import re

LANGUAGE_BY_EXTENSION: dict[str, str] = {
    # C family
    "c": "C", "h": "C", "inc": "C",
    "cc": "C++", "cpp": "C++", "cxx": "C++", "c++": "C++", "cp": "C++",
    "hh": "C++", "hpp": "C++", "hxx": "C++", "h++": "C++", "ipp": "C++", "tpp": "C++",
    "inl": "C++", "tcc": "C++",
    "cu": "CUDA", "cuh": "CUDA",
    "m": "Objective-C", "mm": "Objective-C++",
    "cs": "C#", "d": "D", "zig": "Zig", "v": "Verilog", "sv": "SystemVerilog",
    "vhd": "VHDL", "vhdl": "VHDL",
    "s": "Assembly", "asm": "Assembly", "nasm": "Assembly",
    # Python and friends
    "py": "Python", "pyi": "Python", "pyw": "Python",
    "pyx": "Cython", "pxd": "Cython", "pxi": "Cython",
    "ipynb": "Jupyter Notebook",
    # JVM
    "java": "Java", "kt": "Kotlin", "kts": "Kotlin", "scala": "Scala", "sc": "Scala",
    "groovy": "Groovy", "gradle": "Groovy", "clj": "Clojure", "cljs": "Clojure",
    "cljc": "Clojure", "edn": "Clojure",
    # systems, scripting, functional
    "go": "Go", "rs": "Rust", "swift": "Swift", "dart": "Dart", "nim": "Nim",
    "rb": "Ruby", "rake": "Ruby", "gemspec": "Ruby",
    "php": "PHP", "phtml": "PHP",
    "pl": "Perl", "pm": "Perl", "t": "Perl", "pod": "Pod",
    "lua": "Lua", "r": "R", "jl": "Julia", "tcl": "Tcl",
    "hs": "Haskell", "lhs": "Haskell", "ml": "OCaml", "mli": "OCaml",
    "fs": "F#", "fsi": "F#", "fsx": "F#",
    "ex": "Elixir", "exs": "Elixir", "erl": "Erlang", "hrl": "Erlang",
    "elm": "Elm", "purs": "PureScript", "rkt": "Racket", "scm": "Scheme", "ss": "Scheme",
    "lisp": "Common Lisp", "lsp": "Common Lisp", "el": "Emacs Lisp",
    "pas": "Pascal", "pp": "Pascal", "ada": "Ada", "adb": "Ada", "ads": "Ada",
    "cob": "COBOL", "cbl": "COBOL", "pro": "Prolog",
    "sas": "SAS", "stan": "Stan", "sol": "Solidity",
    "f": "Fortran", "for": "Fortran", "f77": "Fortran", "f90": "Fortran",
    "f95": "Fortran", "f03": "Fortran", "f08": "Fortran", "fpp": "Fortran", "pf": "Fortran",
    # shells
    "sh": "Shell", "bash": "Shell", "zsh": "Shell", "ksh": "Shell", "fish": "fish",
    "ps1": "PowerShell", "psm1": "PowerShell", "bat": "Batchfile", "cmd": "Batchfile",
    "awk": "Awk", "sed": "sed",
    # web
    "js": "JavaScript", "mjs": "JavaScript", "cjs": "JavaScript", "jsx": "JavaScript",
    "ts": "TypeScript", "tsx": "TypeScript", "mts": "TypeScript", "cts": "TypeScript",
    "vue": "Vue", "svelte": "Svelte", "coffee": "CoffeeScript",
    "html": "HTML", "htm": "HTML", "xhtml": "HTML",
    "css": "CSS", "scss": "SCSS", "sass": "Sass", "less": "Less", "styl": "Stylus",
    "ejs": "EJS", "hbs": "Handlebars", "handlebars": "Handlebars", "mustache": "Mustache",
    "pug": "Pug", "jade": "Pug", "erb": "HTML+ERB", "twig": "Twig", "liquid": "Liquid",
    # data, config and build
    "json": "JSON", "jsonc": "JSON", "json5": "JSON5", "geojson": "JSON",
    "yml": "YAML", "yaml": "YAML", "toml": "TOML", "ini": "INI", "cfg": "INI",
    "xml": "XML", "xsd": "XML", "xsl": "XSLT", "svg": "SVG", "plist": "XML",
    "csv": "CSV", "tsv": "TSV", "sql": "SQL", "graphql": "GraphQL", "gql": "GraphQL",
    "proto": "Protobuf", "thrift": "Thrift", "capnp": "Cap'n Proto",
    "cmake": "CMake", "mk": "Makefile", "mak": "Makefile", "build": "Meson",
    "bzl": "Starlark", "nix": "Nix", "dockerfile": "Dockerfile", "hcl": "HCL", "tf": "HCL",
    "properties": "Java Properties", "gn": "GN", "ninja": "Ninja",
    # documentation
    "md": "Markdown", "markdown": "Markdown", "mdx": "MDX",
    "rst": "reStructuredText", "rest": "reStructuredText", "txt": "Text", "text": "Text",
    "adoc": "AsciiDoc", "asciidoc": "AsciiDoc", "org": "Org", "tex": "TeX", "sty": "TeX",
    "cls": "TeX", "bib": "BibTeX", "texi": "Texinfo", "rtf": "RTF", "rmd": "RMarkdown",
    "pod6": "Raku", "raku": "Raku", "man": "Roff", "1": "Roff", "3": "Roff",
    "diff": "Diff", "patch": "Diff",
}  # fmt: skip

LANGUAGE_BY_FILENAME: dict[str, str] = {
    "makefile": "Makefile", "gnumakefile": "Makefile", "bsdmakefile": "Makefile",
    "dockerfile": "Dockerfile", "containerfile": "Dockerfile",
    "cmakelists.txt": "CMake", "meson.build": "Meson", "meson_options.txt": "Meson",
    "meson.options": "Meson", "build.bazel": "Starlark", "workspace": "Starlark",
    "sconstruct": "Python", "sconscript": "Python", "jenkinsfile": "Groovy",
    "rakefile": "Ruby", "gemfile": "Ruby", "podfile": "Ruby", "vagrantfile": "Ruby",
    "justfile": "Just", "go.mod": "Go Module",
    "readme": "Text", "authors": "Text", "contributors": "Text", "changelog": "Text",
    "changes": "Text", "news": "Text", "history": "Text", "thanks": "Text", "todo": "Text",
    "install": "Text", "notice": "Text", "copying": "Text", "licence": "Text",
    "license": "Text", "unlicense": "Text", "copyright": "Text", "patents": "Text",
    ".gitignore": "Ignore List", ".dockerignore": "Ignore List", ".npmignore": "Ignore List",
    ".gitattributes": "Git Attributes", ".editorconfig": "EditorConfig",
    ".clang-format": "YAML", ".clang-tidy": "YAML", ".bashrc": "Shell", ".zshrc": "Shell",
    ".profile": "Shell", ".babelrc": "JSON", ".eslintrc": "JSON", ".prettierrc": "JSON",
}  # fmt: skip

#: suffixes of templates whose language is that of the inner extension, and the language
#: of such a template when there is no inner extension (``hello.tmpl``)
TEMPLATE_SUFFIXES: dict[str, str | None] = {
    "in": None, "src": None, "tmpl": "Template", "template": "Template", "tpl": "Template",
    "j2": "Jinja", "jinja": "Jinja", "jinja2": "Jinja",
}  # fmt: skip
#: languages of prose and markup, where a long line is a paragraph, not minified code
PROSE_LANGUAGES = frozenset(
    {"Markdown", "MDX", "reStructuredText", "Text", "AsciiDoc", "Org", "TeX", "RMarkdown"}
)

_SHEBANG = re.compile(rb"#![ \t]*(?:/usr)?(?:/local)?/bin/(?:env[ \t]+(?:-S[ \t]+)?)?([\w.+-]+)")
LANGUAGE_BY_INTERPRETER: dict[str, str] = {
    "sh": "Shell", "bash": "Shell", "dash": "Shell", "ksh": "Shell", "zsh": "Shell",
    "fish": "fish", "python": "Python", "pypy": "Python", "node": "JavaScript",
    "deno": "TypeScript", "ruby": "Ruby", "perl": "Perl", "php": "PHP", "lua": "Lua",
    "rscript": "R", "julia": "Julia", "tclsh": "Tcl", "awk": "Awk", "gawk": "Awk",
    "make": "Makefile", "osascript": "AppleScript", "pwsh": "PowerShell",
}  # fmt: skip


def language_from_path(path: str) -> str | None:
    """The language implied by a file's name or extension, or None if unknown."""
    name = posixpath.basename(path).lower()
    known = LANGUAGE_BY_FILENAME.get(name)
    if known is not None:
        return known
    parts = name.split(".")
    if parts[0] == "":  # a dotfile: ".eslintrc.yml" has extension "yml", ".bashrc" none
        parts = parts[1:]
    extensions = parts[1:]
    template_language = None
    while extensions:
        extension = extensions.pop()
        language = LANGUAGE_BY_EXTENSION.get(extension)
        if language is not None:
            return language
        if extension not in TEMPLATE_SUFFIXES:
            break
        template_language = template_language or TEMPLATE_SUFFIXES[extension]
    return template_language


def is_template(path: str) -> bool:
    """Whether the file is a template (``config.h.in``): its header describes its output."""
    name = posixpath.basename(path).lower()
    return "." in name.lstrip(".") and name.rsplit(".", 1)[1] in TEMPLATE_SUFFIXES


def has_extension(path: str) -> bool:
    name = posixpath.basename(path)
    return "." in name.lstrip(".")


def language_from_shebang(head: bytes) -> str | None:
    """The language of a script from its ``#!`` line (``python3.11`` counts as python)."""
    match = _SHEBANG.match(head)
    if match is None:
        return None
    interpreter = match.group(1).decode("ascii", "replace").lower()
    base = re.sub(r"[\d.]+$", "", interpreter)
    return LANGUAGE_BY_INTERPRETER.get(base)
