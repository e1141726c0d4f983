"""Which model iHOMER's switching leaves answer with, over a whole stream: kNN, bagging, the
majority labelset or naive Bayes, in its root tree and in its block trees (issue 23: whether a
leaf model could be left out where it never answers).

Every answer of a :class:`~stream_xml.tree.leaf_policies.LossSwitch` leaf is counted by the model
its policy chose at that moment; the root tree is the one whose switch has naive Bayes
(``loss_with_majority_and_nb``, :func:`~stream_xml.ihomer.model.default_root_tree`). The model
learns and predicts as the prequential loop has it, with the source's feature kinds declared.

    STREAM_XML_DATA=../shared/datasets python experiments/leaf_answers.py --source yeast --source emotions

``--model NAME[:k=v,...]`` as in ``experiments/component_times.py`` (default ``ihomer``).
"""

from __future__ import annotations

import argparse
import collections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", action="append", help="repeatable (default: yeast)")
    parser.add_argument("--model", default="ihomer", help="NAME[:k=v,...]")
    args = parser.parse_args()

    from connectors.base import feature_kinds
    from connectors.catalog import open_source
    from model_specs import model_from_spec
    from stream_xml.tree.leaf_policies import LossSwitch

    counts: collections.Counter = collections.Counter()
    answer = LossSwitch._proba

    def counted(self, leaf, idx, val, n_labels, memo=None):
        chosen = self.choice(leaf)
        kind = {id(leaf.knn): "kNN", id(leaf.bagging): "bagging", id(leaf.majority): "majority"}.get(
            id(chosen), "naive Bayes")
        counts["root tree" if self.with_nb else "block trees", kind] += 1
        return answer(self, leaf, idx, val, n_labels, memo)

    LossSwitch._proba = counted
    for source_name in args.source or ["yeast"]:
        counts.clear()
        source = open_source(source_name)
        model = model_from_spec(args.model)
        kinds = feature_kinds(source)
        if kinds:
            model.declare_features(dict(kinds))
        for record in source:
            model.predict_with_scores(record.x)
            model.learn_labelset(record.x, frozenset(record.y))
        for role in ("root tree", "block trees"):
            total = sum(c for (r, _), c in counts.items() if r == role)
            if total:
                shares = ", ".join(f"{kind} {c / total:.3f}" for (r, kind), c in sorted(counts.items()) if r == role)
                print(f"{source_name} {role}: {total} leaf answers; {shares}")


if __name__ == "__main__":
    main()
