"""The boilerplate classifier and the default extractor on small hand-written pages.

Each page holds paragraphs that must be kept and the boilerplate a real page carries around
them (navigation, link lists, footers, cookie banners, comment sections, related links);
the evaluation test at the end scores the extractors on the real gold sets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gristmill.io.boilerplate import Block, classify, join_blocks, parse_blocks, text_length
from gristmill.io.html import DEFAULT_EXTRACTOR, extract, extract_text

PARAGRAPHS = (
    "The mill stands on the River Avill below the castle. A mill has stood on this site "
    "since the eleventh century, and the present building dates from the late eighteenth.",
    "Two overshot wheels drive the stones, which still grind wholemeal flour for the "
    "village bakery. Visitors can watch the miller dress the stones in the winter months.",
    "The leat was cleared by volunteers in 2019; it now carries enough water to run both "
    "wheels through the summer, when the river is at its lowest.",
)


def page(body: str, title: str = "The watermill at Dunster") -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"


ARTICLE = page(
    """
<div class="topbar"><a href="/">Home</a> <a href="/mills">Mills</a> <a href="/visit">Visit</a>
<a href="/shop">Shop</a> <a href="/contact">Contact</a></div>
<div id="cookie-banner"><p>This website uses cookies to improve your experience.</p></div>
<main>
<h1>The watermill at Dunster</h1>
<p>{}</p>
<p>Opening hours:</p>
<p>{}</p>
<p>{}</p>
<h3>Related mills</h3>
<ul><li><a href="/mills/bossington">Bossington mill and its restored wheel</a></li>
<li><a href="/mills/allerford">The Allerford mill leat walk</a></li>
<li><a href="/mills/wootton">Wootton Courtenay: a ruined mill</a></li></ul>
<section class="comments"><h3>2 comments</h3>
<p>Great visit last summer, the flour is excellent and the staff were very friendly to us!</p>
<p>Does anyone know whether the café opens on Mondays in winter? Thanks in advance.</p>
</section>
</main>
<div class="site-links"><a href="/about">About us</a> | <a href="/privacy">Privacy</a> |
<a href="/terms">Terms</a></div>
<p>Copyright 2024 Dunster Mill Trust. All rights reserved.</p>
""".format(*PARAGRAPHS)
)


def test_paragraphs_kept_boilerplate_removed() -> None:
    text = extract_text(ARTICLE)
    for paragraph in PARAGRAPHS:
        assert paragraph in text
    assert text.startswith("The watermill at Dunster")  # the heading before the content
    assert "Opening hours:" in text  # a short line between paragraphs is content
    for boilerplate in (
        "Home",  # navigation
        "uses cookies",  # cookie banner
        "Related mills",  # a heading followed by links only
        "Bossington",  # related links (a link list)
        "Great visit",  # comment section
        "café",
        "Privacy",  # footer links
        "Copyright",  # footer
    ):
        assert boilerplate not in text, boilerplate


def test_signals_and_extractor_name() -> None:
    extraction = extract(ARTICLE)
    assert extraction.extractor == DEFAULT_EXTRACTOR == "resiliparse_boilerplate"
    signals = extraction.signals()
    assert set(signals) == {
        "extract_page_chars", "extract_text_share", "extract_link_density", "extract_doubtful",
    }  # fmt: skip
    assert signals["extract_page_chars"] > len(extraction.text)
    assert 0.3 < signals["extract_text_share"] < 0.9
    assert signals["extract_link_density"] == 0.0  # no link text kept
    assert signals["extract_doubtful"] is False
    # the other extractors name themselves and report the share of the page they keep
    plain = extract(ARTICLE, "resiliparse")
    assert plain.extractor == "resiliparse"
    assert set(plain.signals()) == {"extract_page_chars", "extract_text_share"}
    with pytest.raises(ValueError, match="unknown extractor"):
        extract(ARTICLE, "lynx")


def test_link_list_and_linked_prose() -> None:
    blocks = classify(
        parse_blocks(
            "<p>" + PARAGRAPHS[0] + "</p>\n"
            '<a href="/a">Bossington mill</a> | <a href="/b">Allerford leat</a> | see also\n'
            # an encyclopedia paragraph links most of its words: it is still prose
            '<p>The <a href="/wheel">overshot wheel</a> of the <a href="/mill">mill</a> is '
            'fed by a <a href="/leat">leat</a> from the <a href="/avill">River Avill</a>, '
            'which rises on <a href="/dunkery">Dunkery Beacon</a>.</p>\n'
        )
    )
    assert [block.label for block in blocks] == ["good", "bad", "good"]
    assert blocks[1].link_density > 0.6
    assert 0.4 < blocks[2].link_density < 0.75


def test_short_blocks_take_their_neighbours_class() -> None:
    good, short = f"<p>{PARAGRAPHS[0]}</p>", "<p>Opening hours</p>"
    sentence = "<p>The mill is closed on Mondays.</p>"
    # between content: content
    blocks = classify(parse_blocks("\n".join([good, short, good])))
    assert [block.label for block in blocks] == ["good", "good", "good"]
    # after the content, at the page's end (boilerplate): boilerplate...
    blocks = classify(parse_blocks("\n".join([good, short])))
    assert [block.label for block in blocks] == ["good", "bad"]
    # ... unless a sentence follows it: a sentence next to content is content (jusText's
    # near-good class), and so is a short block between it and content
    blocks = classify(parse_blocks("\n".join([good, short, sentence])))
    assert [block.label for block in blocks] == ["good", "good", "good"]
    blocks = classify(parse_blocks("\n".join([short, sentence])))
    assert [block.label for block in blocks] == ["bad", "bad"]  # no content around


def test_footer_and_byline_patterns() -> None:
    lines = [
        "<p>" + PARAGRAPHS[0] + "</p>",
        "<p>© 2024 The Mill Trust. All rights reserved.</p>",
        "<p>Powered by WordPress.</p>",
        "<p>Published 11:11 PM EST Nov 19, 2019</p>",
        "<p>" + PARAGRAPHS[1] + "</p>",
    ]
    blocks = classify(parse_blocks("\n".join(lines)))
    assert [block.label for block in blocks] == ["good", "bad", "bad", "bad", "good"]


def test_comment_section_heading_ends_the_content() -> None:
    # comments in a plain <div>: resiliparse's class and id heuristics do not see them
    html = page(
        f"<h1>The watermill</h1><p>{PARAGRAPHS[0]}</p><p>{PARAGRAPHS[1]}</p>"
        "<h3>3 Comments</h3>"
        "<div><p>Lovely place, we visited in May and bought two bags of the spelt flour, "
        "which made excellent bread. Highly recommended for families.</p></div>"
        "<div><p>The café was closed when we came, which was a shame, but the mill "
        "itself and the volunteers made up for it. We will come back.</p></div>"
    )
    text = extract_text(html)
    assert PARAGRAPHS[1] in text
    assert "Comments" not in text and "spelt" not in text and "volunteers" not in text
    # a comment heading before any content is not a cut
    blocks = classify(parse_blocks(f"<h2>Comments</h2>\n<p>{PARAGRAPHS[0]}</p>"))
    assert blocks[1].label == "good"


def test_parse_blocks() -> None:
    minimal = (
        '<a href="">\n'  # resiliparse leaves anchors without targets unclosed
        '<h2>Milling <a href="/terms">terms</a></h2>\n'
        "<p>A hopper feeds grain&nbsp;into the eye<br>\nof the runner stone &amp; the bed.</p>\n"
        '<ul>\n  <li>hopper</li>\n  <li><a href="/shoe">shoe</a></li>\n</ul>\n'
        "cell one\t\tcell two\n"
        "<pre>  indented\n  code</pre>"
    )
    blocks = parse_blocks(minimal)
    assert [(b.kind, b.text, b.link_chars) for b in blocks] == [
        ("h2", "Milling terms", 5),
        ("p", "A hopper feeds grain into the eye\nof the runner stone & the bed.", 0),
        ("li", "hopper", 0),
        ("li", "shoe", 4),
        ("text", "cell one cell two", 0),
        ("pre", "indented\ncode", 0),
    ]
    kept = [Block("one", "li"), Block("two", "li"), Block("after", "p")]
    assert join_blocks(kept) == "one\ntwo\n\nafter"


def test_scripts_written_without_spaces() -> None:
    # 40 characters: a short line in letters, a paragraph in Han and kana
    paragraph = (
        "水車は川の流れで回り、石臼を動かして小麦を挽きます。村のパン屋は毎朝その粉を使います。"
    )
    assert text_length(paragraph) > 2.5 * len(paragraph)
    assert extract_text(page(f"<p>{paragraph}</p>", "水車")) == paragraph


def test_doubtful_page_is_classified_whole() -> None:
    # resiliparse's main-content pass drops lists: a page whose text is a list is doubtful,
    # and the whole page's blocks are classified instead
    facts = [
        "The wheel is eleven feet across and turns nine times a minute when the leat is full.",
        "Two pairs of French burr stones grind wheat; a third pair of Peak stones grinds oats.",
        "The sack hoist is driven from the wheel through a slack belt and a wooden clutch.",
    ]
    items = "".join(f"<li>{fact}</li>" for fact in facts)
    html = page(
        '<nav><ul><li><a href="/">Home</a></li><li><a href="/facts">Facts</a></li></ul></nav>'
        f"<h1>Facts about the mill</h1><ul>{items}</ul>"
        "<footer>Copyright 2024 The Mill Trust</footer>"
    )
    extraction = extract(html)
    assert extraction.doubtful
    assert extraction.text == "Facts about the mill\n\n" + "\n".join(facts)
    # or, when asked, trafilatura extracts the doubtful page, and the meta says so
    pytest.importorskip("trafilatura")
    extraction = extract(html, doubtful_fallback="trafilatura")
    assert extraction.extractor == "trafilatura"
    assert extraction.signals()["extract_doubtful"] is True
    assert facts[1] in extraction.text


def test_hub_page_keeps_its_titles() -> None:
    # a list of posts: every title is a link, no block reads as content; the titles are
    # the page's text (its bylines and footer are not), and the page is marked doubtful
    posts = (
        ("hub", "Introducing the Hampshire Hub", "markbraggins on 04/03/14"),
        ("leeds", "Open Data, a vision from Leeds", "tstraughan on 01/03/14"),
        ("local", "Exploring what Local Authorities do for you", "stevepeters on 20/02/14"),
    )
    items = "".join(
        f'<div class="post"><h2><a href="/blog/{slug}">{title}</a></h2>'
        f"<div>Posted by: {byline}</div></div>"
        for slug, title, byline in posts
    )
    html = page(
        '<div class="menu"><a href="/">Home</a> <a href="/data">Data</a></div>'
        f'<div class="content"><h1>Latest blog posts</h1>{items}</div>'
        "<p>Copyright 2014 Crown. All rights reserved.</p>",
        "Blog",
    )
    extraction = extract(html)
    assert extraction.doubtful
    assert extraction.text == "\n\n".join(["Latest blog posts"] + [p[1] for p in posts])
    assert extraction.signals()["extract_link_density"] > 0.8


def test_empty_and_script_only_pages() -> None:
    assert extract_text(page("")) == ""
    assert extract_text("<html><head><script>var x = 1;</script></head><body></body></html>") == ""


# -- evaluation: the real gold sets of ../shared/data ------------------------------------------
@pytest.mark.evaluation
def test_default_extractor_on_both_gold_sets(shared_data: Path) -> None:
    from bench.main_text_gold import scrapinghub_pages, snippet_score, warc_pages

    web = shared_data / "web"
    warc = warc_pages(web / "warc")
    gold_sets = {  # articles and other pages (home pages, profiles, listings, shops) apart
        "warc articles": [gold for gold in warc if gold.kind == "article"],
        "warc other pages": [gold for gold in warc if gold.kind != "article"],
        "scrapinghub": scrapinghub_pages(web / "html_extraction" / "scrapinghub_aeb"),
    }
    doubtful = 0
    for name, pages in gold_sets.items():
        extractions = [extract(gold.html) for gold in pages]
        doubtful += sum(extraction.doubtful for extraction in extractions)
        score = snippet_score(pages, [extraction.text for extraction in extractions])
        baseline = snippet_score(pages, [extract_text(gold.html, "resiliparse") for gold in pages])
        assert score.f1 >= 0.92, (name, score.f1, score.missed, score.leaked)
        assert score.precision >= 0.89, (name, score.precision, score.leaked)
        # the boilerplate stage buys precision over resiliparse's own heuristics
        assert score.precision >= baseline.precision, name
    assert doubtful <= 0.1 * sum(len(pages) for pages in gold_sets.values())
