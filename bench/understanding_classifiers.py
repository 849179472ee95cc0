"""Classifier choice by held-apart data: the matcher, TF-IDF kNN and TF-IDF centroid, each
plain (intents examples + FAQ/rule questions) and trained on one tuning set's first turns
(labelled by the intent of the answers the dialogue gets right) and scored on the other.

Run from the repository root: PYTHONPATH=. python bench/understanding_classifiers.py
Only the tuning sets are used; the held-out sets never are.
"""

from laundrybot.dialog.classify import TfidfClassifier
from laundrybot.dialog.engine import Dialog
from laundrybot.dialog.knowledge import load_knowledge_set
from laundrybot.dialog.matching import IntentMatcher
from laundrybot.dialog.state import DialogueState
from tests import test_understanding as tu
from tests.understanding import scoring

ks = load_knowledge_set(tu.KNOWLEDGE)


def score(d, name):
    tu._DIALOGS[name.rsplit("_", 1)[1]] = d
    res, _ = tu.run(name)
    f = scoring.figures(res)
    return f"{f.right}/{f.turns} {f.rate:.1%}"


def labelled(d, name):
    """(intent, utterance) of first turns the current dialogue answers right."""
    res, _ = tu.run(name)
    out = []
    for r in res:
        if r.index == 0 and r.right:
            a = d.answer(r.say, {}, tu.NOW, DialogueState())
            if (
                a.intent not in ("fallback", "clarify", "report-update")
                and len(d._pieces(r.say)) == 1
            ):
                intent = a.state.pending_kind if a.state.pending == "report-machine" else a.intent
                out.append((intent, r.say))
    return out


def with_extra(lang, clf, extra):
    d = Dialog(ks[lang], classifier=clf)
    if extra:
        featured = [(i, d.normalize(p).features) for i, p in extra]
        base = []
        for intent, phrases in d.language.examples.items():
            base += [(intent, d.normalize(p).features) for p in phrases]
        for r in ks[lang].rules:
            base += [(f"rule:{r.id}", d.normalize(q).features) for q in r.questions]
        for e in ks[lang].faq:
            base += [(f"faq:{e.id}", d.normalize(q).features) for q in e.questions]
        d.matcher = IntentMatcher(base + featured)
        d.tfidf = TfidfClassifier(base + featured, centroid=clf == "centroid")
    return d


for lang in ("en", "ko"):
    t1, t2 = f"tuning_{lang}", f"tuning2_{lang}"
    base = Dialog(ks[lang])
    tu._DIALOGS[lang] = base
    lab1, lab2 = labelled(base, t1), labelled(base, t2)
    print(lang, "labelled first turns: tuning", len(lab1), "tuning2", len(lab2))
    for clf in ("matcher", "knn", "centroid"):
        row = [clf]
        row.append(
            "plain: t1 "
            + score(with_extra(lang, clf, []), t1)
            + " t2 "
            + score(with_extra(lang, clf, []), t2)
        )
        row.append("train+t1 -> t2 " + score(with_extra(lang, clf, lab1), t2))
        row.append("train+t2 -> t1 " + score(with_extra(lang, clf, lab2), t1))
        print("  ", " | ".join(row))
