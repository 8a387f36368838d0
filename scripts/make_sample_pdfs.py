"""Write the sample site's PDF reports into content/assets/ (deterministic bytes).

Run with ``make content``. tests/test_content.py checks the committed files
equal what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pdfgen import PageSpec, PdfSpec, make_pdf  # noqa: E402

REPORTS: dict[str, PdfSpec] = {
    "assets/hub/Section 1.2.1_Programme Evaluation Report.pdf": PdfSpec(
        title="Programme Evaluation Report",
        author="Independent Evaluation Team",
        pages=[
            [
                "Northern Health Data Partnership",
                "Programme Evaluation Report",
                "Final version, March 2020",
            ],
            [
                "1. Summary",
                "The partnership set out to show that a learning health system could",
                "run on routinely collected records. We interviewed 42 clinicians,",
                "managers and patients, and reviewed the cost of the shared data",
                "infrastructure over three years.",
                "",
                "\u2022 Near real-time dashboards were the most valued output.",
                "\u2022 Information governance took longer than any technical work.",
                "\u2022 Sustainability depends on regional commissioners.",
            ],
            [
                "2. Cost of the shared infrastructure",
                "The trusted research environment cost 1.4 million pounds to build",
                "and 380,000 pounds a year to run. Most of the running cost was staff",
                "time for data linkage and output checking. Teams that re-used the",
                "platform for a second pathway needed a third of the set-up effort.",
            ],
            [
                "3. Recommendations",
                "Commissioners should fund data linkage as a permanent service, not",
                "as a project. Evaluation should be built in from the start, with",
                "outcome measures agreed before any change to a care pathway is",
                "made, so that improve-",
                "ments can be attributed with confidence.",
            ],
        ],
    ),
    "assets/north-coast/Section 2.1.1_Coastal Data Platform.pdf": PdfSpec(
        title="Coastal Data Platform",
        pages=[
            [
                "Coastal Data Platform",
                "The platform links ambulance call records with emergency department",
                "attendances and the regional shared care record. Records are",
                "pseudonymised at source with a keyed hash before they are linked.",
            ],
            [
                "Architecture",
                "Nightly extracts arrive over a secure file transfer link, are checked",
                "against a data dictionary and loaded into a columnar warehouse.",
                "Dashboards for the asthma pathway refresh every morning at six.",
            ],
        ],
    ),
    "assets/north-coast/Section 2.2.1_Asthma Pathway Report.pdf": PdfSpec(
        title="Childhood Asthma Pathway: Final Report",
        pages=[
            PageSpec(
                lines=[
                    "Childhood Asthma Pathway",
                    "Final report of the North Coast asthma pathway. Children who",
                    "attended the emergency department with wheeze were followed up",
                    "by a specialist asthma nurse within fourteen days.",
                ]
            ),
            PageSpec(
                lines=[
                    "Results",
                    "Repeat attendances within six months fell from 18% to 12%.",
                    "Inhaler technique was checked for 91% of children seen by the",
                    "nurse. Parents reported fewer nights of disturbed sleep.",
                ]
            ),
            PageSpec(image_only=True),
        ],
    ),
    "assets/valley-region/Section 3.10.1_Frailty Index Findings.pdf": PdfSpec(
        title="Frailty Index Findings",
        pages=[
            [
                "Frailty Index Findings",
                "The electronic frailty index identified 4,310 people with moderate",
                "or severe frailty in twelve practices.",
            ],
            [
                "Medication reviews",
                "After a structured medication review the average number of regular",
                "medicines fell from 9.2 to 7.6 and recorded falls fell by a fifth.",
            ],
        ],
    ),
}


def main() -> None:
    for rel, spec in REPORTS.items():
        path = ROOT / "content" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make_pdf(spec))
        print(f"wrote content/{rel}")


if __name__ == "__main__":
    main()
