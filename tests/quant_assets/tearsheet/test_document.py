import re

from quant_assets.tearsheet.document import Section, paragraph, render_document, render_section


def test_render_section_has_its_heading_id():
    html = render_section(Section("monthly-returns", "Monthly <returns>", "<p>body</p>"))
    assert '<h2 id="monthly-returns">Monthly &lt;returns&gt;</h2>' in html
    assert html.endswith("<p>body</p></section>")


def test_document_is_complete_and_self_contained():
    sections = [Section("a", "First", paragraph("1 < 2")), Section("b", "Second", "")]
    html = render_document("Run <x>", "sub & title", sections)
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>Run &lt;x&gt;</title>" in html and "sub &amp; title" in html
    assert re.findall(r'<a href="([^"]*)"', html) == ["#a", "#b"]
    assert re.findall(r'<h2 id="([^"]*)"', html) == ["a", "b"]
    assert "<p>1 &lt; 2</p>" in html
    assert "<script" not in html and "<link" not in html and "url(" not in html
