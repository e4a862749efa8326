"""Write the small shipped text dataset: plain sentences, a labelled CSV and a JSONL file.

Run from the repository root: python scripts/make_sample_text.py
sample_data/text/reviews.txt (one sentence per line, line-aligned labels in reviews.labels),
sample_data/text/reviews.csv (id, text, label; quotes and commas inside fields) and
sample_data/text/questions.jsonl. The sentences are the project's own.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "sample_data" / "text"

REVIEWS = [
    ("The coffee was hot, strong and exactly what I needed this morning.", "pos"),
    ("Service was slow and the waiter forgot our order twice.", "neg"),
    ("A quiet little place with friendly staff and fair prices.", "pos"),
    ("The soup arrived cold and tasted of nothing at all.", "neg"),
    ("I loved the fresh bread; they bake it every day.", "pos"),
    ("Too loud to talk, and the music was terrible.", "neg"),
    ("Great view over the harbour, especially at sunset.", "pos"),
    ('The so-called "homemade" cake came straight from a box.', "neg"),
    ("Our guide knew every street and told wonderful stories.", "pos"),
    ("The room smelled of smoke and the bed was hard.", "neg"),
    ("Quick delivery, careful packaging, and the book was like new.", "pos"),
    ("The charger stopped working after three days.", "neg"),
    ("Bright colours, soft fabric, and it fits perfectly.", "pos"),
    ("The instructions were confusing and two screws were missing.", "neg"),
    ("A brilliant film with a clever plot and strong acting.", "pos"),
    ("The ending was predictable and the dialogue felt flat.", "neg"),
    ("Clean trains, punctual buses, and helpful people everywhere.", "pos"),
    ("We waited an hour in the rain for a bus that never came.", "neg"),
    ("The new update makes the app fast and easy to use.", "pos"),
    ("Since the update, the app crashes whenever I open the camera.", "neg"),
    ("Tender meat, crisp vegetables and a generous portion.", "pos"),
    ("The hotel charged us twice and ignored every email.", "neg"),
    ("A patient teacher who explains difficult ideas simply.", "pos"),
    ("The lecture was rushed, and the slides were unreadable.", "neg"),
]

QUESTIONS = [
    ("How do I reset my password?", "account"),
    ("Where can I see my last invoice?", "billing"),
    ("Can I change the delivery address after ordering?", "shipping"),
    ("Why was my card declined?", "billing"),
    ("How long does shipping to Norway usually take?", "shipping"),
    ("Is it possible to delete my account completely?", "account"),
    ("Do you offer a discount for students?", "billing"),
    ("My parcel says delivered, but I never received it.", "shipping"),
]


def main() -> None:
    ROOT.mkdir(parents=True, exist_ok=True)
    (ROOT / "reviews.txt").write_text("".join(text + "\n" for text, _ in REVIEWS), encoding="utf-8")
    (ROOT / "reviews.labels").write_text("".join(label + "\n" for _, label in REVIEWS), encoding="utf-8")
    with (ROOT / "reviews.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "text", "label"])
        writer.writerows((i, text, label) for i, (text, label) in enumerate(REVIEWS, start=1))
    with (ROOT / "questions.jsonl").open("w", encoding="utf-8") as handle:
        for i, (text, topic) in enumerate(QUESTIONS, start=1):
            handle.write(json.dumps({"id": i, "text": text, "topic": topic}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
