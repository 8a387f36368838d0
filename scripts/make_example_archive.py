"""Write the README's example archive: a small folder of generated PDF reports.

    python scripts/make_example_archive.py example-archive

Nested topic folders (one an acronym, ``copd/``), titles and authors from the
PDFs' information dictionaries or XMP packets, printed page labels (a
foreword numbered i, ii), a report with no metadata at all, a ``_meta.yml``
naming a folder and a ``report.pdf.yml`` sidecar correcting one report. The
bytes are the same on every run, and nothing is downloaded; the README's
console examples (scripts/readme_examples.py) index and search it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pdfgen import PageSpec, PdfSpec, make_pdf  # noqa: E402

ADMISSIONS_XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<dc:title><rdf:Alt>
<rdf:li xml:lang="x-default">Emergency Admissions for COPD, 2012 to 2019</rdf:li>
</rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>Amira Shah</rdf:li><rdf:li>Tom Briggs</rdf:li></rdf:Seq></dc:creator>
<xmp:CreateDate>2020-02-11T09:30:00Z</xmp:CreateDate>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""

REPORTS: dict[str, PdfSpec] = {
    "respiratory/copd/pulmonary-rehabilitation.pdf": PdfSpec(
        title="Pulmonary Rehabilitation after a COPD Admission",
        author="Rhiannon Price; Dev Patel",
        created="D:20190605120000Z",
        pages=[
            [
                "Pulmonary Rehabilitation after a COPD Admission",
                "An evaluation of referrals from two district hospitals.",
            ],
            [
                "1. Referral",
                "Patients admitted with an exacerbation of chronic obstructive",
                "pulmonary disease (COPD) were referred to pulmonary rehabilitation",
                "before discharge. Referral rose from 31% to 68% of admissions.",
            ],
            [
                "2. Outcomes",
                "Those who completed the twelve-week programme were readmitted",
                "less often within ninety days. Breathlessness scores improved for",
                "most; travel to the classes was the commonest reason to stop.",
            ],
        ],
    ),
    # XMP names the report; the information dictionary holds a draft title it overrides
    "respiratory/copd/emergency-admissions.pdf": PdfSpec(
        title="Draft v3 - do not circulate",
        author="Analytics",
        created="D:20191201000000Z",
        xmp=ADMISSIONS_XMP,
        page_labels=((0, "r", "", 1), (2, "D", "", 1)),
        pages=[
            PageSpec(lines=("Emergency Admissions for COPD, 2012 to 2019",)),
            PageSpec(lines=("Foreword", "The data come from the regional shared care record.")),
            PageSpec(
                lines=(
                    "1. Admissions by month",
                    "Emergency admissions for COPD peak in January, two weeks after",
                    "the first cold spell, and are highest in the coastal towns.",
                )
            ),
            PageSpec(
                lines=(
                    "2. Modelling",
                    "A spatio-temporal model of incidence explains most of the winter",
                    "excess by temperature and by the age of the local population.",
                )
            ),
        ],
    ),
    "respiratory/asthma/school-inhalers.pdf": PdfSpec(
        title="Spare Inhalers in Schools",
        author="Grace Okafor",
        created="D:20180320120000Z",
        pages=[
            [
                "Spare Inhalers in Schools",
                "Forty primary schools kept a spare reliever inhaler for children",
                "with asthma. Calls to parents fell, and no child needed an",
                "ambulance during the school day in the year of the study.",
            ],
        ],
    ),
    # no metadata: the title is the first line
    "frailty/2021/frailty-index.pdf": PdfSpec(
        pages=[
            [
                "Electronic Frailty Index in General Practice",
                "Practices used the electronic frailty index to find older people",
                "at risk of falls and invited them to a medication review.",
            ],
            [
                "Results",
                "Falls admissions among those reviewed fell by a fifth. Most",
                "reviews stopped at least one medicine.",
            ],
        ],
    ),
    # its sidecar corrects the title, authors and year, and adds a web address
    "governance/citizens-juries.pdf": PdfSpec(
        title="Jury report FINAL",
        created="D:20180101000000Z",
        pages=[
            [
                "Citizens' Juries on Health Data Sharing",
                "Two juries of eighteen citizens heard evidence for four days and",
                "voted on whether records should be shared for research.",
            ],
            [
                "Verdicts",
                "Both juries supported sharing for research and for planning,",
                "with safeguards, and opposed sharing with insurers.",
            ],
        ],
    ),
}

SIDECARS: dict[str, str] = {
    "respiratory/_meta.yml": ("folder_title: Respiratory Care\ntags: [respiratory]\n"),
    "governance/citizens-juries.pdf.yml": (
        "title: Citizens' Juries on Health Data Sharing\n"
        "authors: [Malcolm Oswald, Kyle Bozentko]\n"
        "year: 2017\n"
        "tags: [juries, governance]\n"
        "url: https://example.org/reports/citizens-juries.pdf\n"
    ),
}


def write_archive(root: Path) -> list[Path]:
    """Write the archive's files under ``root`` (made if missing); return them, sorted."""
    written = []
    files: dict[str, bytes] = {rel: make_pdf(spec) for rel, spec in REPORTS.items()}
    files.update({rel: text.encode("utf-8") for rel, text in SIDECARS.items()})
    for rel, data in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where to write the archive (made if missing)")
    args = parser.parse_args(argv)
    written = write_archive(args.folder)
    pdfs = sum(1 for path in written if path.suffix == ".pdf")
    print(f"{args.folder}: {pdfs} PDFs and {len(written) - pdfs} sidecars written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
