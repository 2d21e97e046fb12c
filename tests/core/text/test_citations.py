"""Citation markers: reading ids, and rewriting the labelled variants small models write."""

from __future__ import annotations

import pytest

from core.text.citations import canonical_citations, cited_ids, fold_source_sentences

KNOWN = {"kestrel-handbook", "kestrel-pay", "doc-a"}


def test_cited_ids_in_order_without_repeats() -> None:
    assert cited_ids("A [x]. B [y, x]. C [x].") == ["x", "y"]


@pytest.mark.parametrize(
    "marker",
    [
        "[kestrel-handbook]",
        "[document id: kestrel-handbook]",
        "[document-id: kestrel-handbook]",
        '[document id="kestrel-handbook"]',
        "[Source: kestrel-handbook]",
        "[doc kestrel-handbook]",
        "['kestrel-handbook']",
    ],
)
def test_labelled_variants_become_the_bare_id(marker: str) -> None:
    text = f"Drivers rest 11 hours {marker}."
    assert cited_ids(text, KNOWN) == ["kestrel-handbook"]
    assert canonical_citations(text, KNOWN) == "Drivers rest 11 hours [kestrel-handbook]."


def test_several_ids_in_one_marker() -> None:
    text = "Both hold [documents: kestrel-handbook; kestrel-pay]."
    assert canonical_citations(text, KNOWN) == "Both hold [kestrel-handbook, kestrel-pay]."


def test_an_id_that_looks_like_a_label_is_not_cut() -> None:
    assert cited_ids("It says so [doc-a].", KNOWN) == ["doc-a"]
    assert canonical_citations("It says so [doc-a].", KNOWN) == "It says so [doc-a]."


def test_markers_that_name_no_known_document_are_left_alone() -> None:
    text = "A list [1] and a note [see above], and [document id: mirela-garden]."
    assert canonical_citations(text, KNOWN) == text
    assert cited_ids(text, KNOWN) == ["1", "see above", "document id: mirela-garden"]


def test_a_sentence_that_only_names_its_source_becomes_the_citation_before_it() -> None:
    text = (
        "A driver gets a 15 percent supplement. This information is found in document "
        "[kestrel-pay]. Drivers rest 11 hours [kestrel-handbook]. See [kestrel-handbook]."
    )
    assert fold_source_sentences(text, KNOWN) == (
        "A driver gets a 15 percent supplement [kestrel-pay]. Drivers rest 11 hours "
        "[kestrel-handbook]."
    )


def test_source_sentences_that_cannot_be_folded_are_kept() -> None:
    alone = "This information is found in document [kestrel-pay]."
    assert fold_source_sentences(alone, KNOWN) == alone  # nothing before it
    unknown = "Drivers rest 11 hours. It is found in document [elsewhere]."
    assert fold_source_sentences(unknown, KNOWN) == unknown  # not one of ours
    content = "Drivers rest 11 hours. The pay is found in [kestrel-pay]."
    assert fold_source_sentences(content, KNOWN) == content  # "pay" says something
