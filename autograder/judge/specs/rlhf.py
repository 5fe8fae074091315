"""Check specs of notebook 07 (RLHF), part one: the reward model's pieces and its learning run.

Lecture 001, Part II, on the toy task of :mod:`rlkit.rlhf` (the RL pieces, DPO and REBEL are
:mod:`autograder.judge.specs.rlhf_policy`; both register ``rlhf.*`` specs). Every case has a known
answer where the lecture gives one: the K(K-1)/2 comparisons of a ranking, the Bradley-Terry
loss as the negative log-likelihood of a logistic regression on the reward gap (its value and
gradient from the closed form, not from the reference). The losses are checked in value and in
gradient, in float32 and float64. Then a short learning run: the reward model of
:func:`rlkit.rlhf.reward_model.train_reward_model` trained with the student's ranking -> pairs
and Bradley-Terry loss must rank held-out pairs far better than chance (DESIGN section 5,
layer 3). Each ``_bug_*`` is a self-contained plausible wrong implementation with its hint;
``tests/test_bug_bank.py`` proves every one is caught and named.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from autograder.box.calls import Run
from autograder.box.procedures.rlhf import arrays_run, loss_run, pairs_run, reward_model_run
from autograder.judge.core import (
    Bug,
    Case,
    CheckSpec,
    Comparator,
    allclose,
    learning_rule,
    register,
)
from autograder.judge.specs.dqn import fields
from autograder.judge.specs.learning_runs import learning_spec
from rlkit.rlhf import losses
from rlkit.rlhf.model import RewardModel
from rlkit.rlhf.reward_model import RewardModelConfig, pair_indices, score_responses
from rlkit.rlhf.task import PreferenceData, TaskConfig, make_preference_data

# --- ranking_pairs


def _pair_fields(pairs: Any) -> dict[str, Any]:
    """The number of pairs and the pairs sorted (the order is free), or ValueError."""
    try:
        pairs = np.asarray(pairs, dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"return a list of (chosen, rejected) pairs of ints; got "
                         f"{pairs!r:.120}") from exc
    pairs = pairs.reshape(-1, 2) if pairs.size or pairs.ndim == 1 else pairs
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"each pair must be two indices (chosen, rejected); got {pairs!r:.120}")
    return {"number of pairs": len(pairs),
            "the pairs, sorted": np.asarray(sorted(map(tuple, pairs.tolist())),
                                            dtype=np.int64).reshape(-1, 2)}


def _pairs_compare() -> Comparator:
    """The pairs in any order: their number, then the sorted pairs, exactly."""
    same = fields(allclose(integer=True))

    def compare(got: Any, expected: Any) -> str | None:
        try:
            got = _pair_fields(got)
        except ValueError as exc:
            return str(exc)
        return same(got, _pair_fields(expected))

    return compare


def _pairs_cases() -> list[Case]:
    rng = np.random.default_rng(701)
    return [
        Case("the lecture's D > C > A = B, the tie broken as [3, 2, 0, 1]: 6 comparisons",
             run=pairs_run([3, 2, 0, 1])),
        Case("a ranking of 3 as a list: [3, 2, 0]", run=pairs_run([3, 2, 0])),
        Case("two responses, the second preferred: [1, 0]", run=pairs_run([1, 0])),
        Case("a ranking of 7 as an int64 array: 21 comparisons",
             run=pairs_run(rng.permutation(7))),
        Case("a single response: no comparison", run=pairs_run([0])),
    ]


def _pairs_hidden(rng: np.random.Generator) -> list[Case]:
    k = int(rng.integers(2, 10))
    ranking = rng.permutation(k)
    return [Case(f"hidden: a random ranking of {k}",
                 run=pairs_run(ranking if rng.random() < 0.5 else ranking.tolist()))]


def _bug_pairs_swapped(ranking):
    ranking = list(ranking)
    return [(ranking[j], ranking[i]) for i in range(len(ranking))
            for j in range(i + 1, len(ranking))]


def _bug_pairs_positions(ranking):
    return [(i, j) for i in range(len(ranking)) for j in range(i + 1, len(ranking))]


def _bug_pairs_adjacent(ranking):
    ranking = list(ranking)
    return [(ranking[i], ranking[i + 1]) for i in range(len(ranking) - 1)]


def _bug_pairs_best_only(ranking):
    ranking = list(ranking)
    return [(ranking[0], other) for other in ranking[1:]]


def _bug_pairs_both_ways(ranking):
    ranking = list(ranking)
    return [(a, b) for a in ranking for b in ranking if a != b]


def _bug_pairs_with_itself(ranking):
    ranking = list(ranking)
    return [(ranking[i], ranking[j]) for i in range(len(ranking))
            for j in range(i, len(ranking))]


def _bug_pairs_misses_last(ranking):
    ranking = list(ranking)
    return [(ranking[i], ranking[j]) for i in range(len(ranking))
            for j in range(i + 1, len(ranking) - 1)]


RANKING_PAIRS = CheckSpec(
    name="rlhf.ranking_pairs",
    function="ranking_pairs",
    points=2,
    reference=losses.ranking_pairs,
    visible_cases=_pairs_cases,
    hidden_cases=_pairs_hidden,
    compare=_pairs_compare(),
    bugs=(
        Bug("chosen_and_rejected_swapped", _bug_pairs_swapped,
            "The ranking lists the favourite FIRST: a response earlier in it is the chosen "
            "one, so each pair is (ranking[i], ranking[j]) for i < j."),
        Bug("positions_not_responses", _bug_pairs_positions,
            "The pairs hold the RESPONSES' indices (the entries of the ranking), not their "
            "positions in it: (ranking[i], ranking[j]), not (i, j)."),
        Bug("neighbours_only", _bug_pairs_adjacent,
            "A ranking of K gives K(K-1)/2 comparisons, every response against every one "
            "ranked below it, not only its neighbour (K - 1)."),
        Bug("best_against_the_rest_only", _bug_pairs_best_only,
            "Every response is preferred to every response ranked below it, not only the "
            "best one: K(K-1)/2 pairs."),
        Bug("both_directions", _bug_pairs_both_ways,
            "Each comparison once, oriented (chosen, rejected): only the pairs where the "
            "first is ranked above the second."),
        Bug("misses_the_last", _bug_pairs_misses_last,
            "The inner loop runs to the end of the ranking: the last response is the "
            "rejected one of K - 1 comparisons."),
        Bug("pairs_a_response_with_itself", _bug_pairs_with_itself,
            "A response is never compared with itself: the inner loop starts AFTER i (j from "
            "i + 1), K(K-1)/2 pairs, not K(K+1)/2."),
    ),
    hint="[(ranking[i], ranking[j]) for i in range(K) for j in range(i + 1, K)]: K(K-1)/2 "
    "pairs, the better-ranked response first.",
)

# --- bradley_terry_loss


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x))


def _bt_known(chosen, rejected) -> dict[str, Any]:
    """The logistic regression's NLL on the gap and its gradient, in closed form."""
    gap = np.asarray(chosen, dtype=np.float64) - np.asarray(rejected, dtype=np.float64)
    n = gap.size
    return {"loss": float(np.mean(np.logaddexp(0.0, -gap))),
            "d loss / d chosen_rewards": -_sigmoid(-gap) / n,
            "d loss / d rejected_rewards": _sigmoid(-gap) / n}


def _bt_run(chosen, rejected, dtype=torch.float32) -> Run:
    return loss_run(("chosen_rewards", "rejected_rewards"), (chosen, rejected), dtype=dtype)


def _bt_case(name: str, chosen, rejected, dtype=torch.float32) -> Case:
    return Case(name, run=_bt_run(chosen, rejected, dtype), expected=_bt_known(chosen, rejected))


def _bt_cases() -> list[Case]:
    rng = np.random.default_rng(711)
    return [
        _bt_case("equal rewards: the model cannot tell the two apart, ln 2",
                 [0.3, -1.0, 2.0], [0.3, -1.0, 2.0]),
        _bt_case("8 random pairs: the logistic regression's negative log-likelihood on r_w - "
                 "r_l, and its gradient", rng.normal(size=8), rng.normal(size=8)),
        _bt_case("very large gaps in float32 (r_w - r_l = -120, 120, 30): log(sigmoid(-120)) "
                 "is log(0) in float32", [-60.0, 60.0, 15.0], [60.0, -60.0, -15.0]),
        _bt_case("a single pair, float64", [1.5], [-0.5], torch.float64),
    ]


def _bt_hidden(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(2, 40))
    scale = float(rng.uniform(0.5, 3.0))
    return [_bt_case("hidden: a random batch", rng.normal(size=n) * scale,
                     rng.normal(size=n) * scale)]


def _bug_bt_swapped(chosen_rewards, rejected_rewards):
    return -F.logsigmoid(rejected_rewards - chosen_rewards).mean()


def _bug_bt_sum(chosen_rewards, rejected_rewards):
    return -F.logsigmoid(chosen_rewards - rejected_rewards).sum()


def _bug_bt_log_of_sigmoid(chosen_rewards, rejected_rewards):
    return -torch.log(torch.sigmoid(chosen_rewards - rejected_rewards)).mean()


def _bug_bt_no_log(chosen_rewards, rejected_rewards):
    return -torch.sigmoid(chosen_rewards - rejected_rewards).mean()


def _bug_bt_sign(chosen_rewards, rejected_rewards):
    return F.logsigmoid(chosen_rewards - rejected_rewards).mean()


def _bug_bt_separate_terms(chosen_rewards, rejected_rewards):
    return -(F.logsigmoid(chosen_rewards) + F.logsigmoid(-rejected_rewards)).mean()


BRADLEY_TERRY_LOSS = CheckSpec(
    name="rlhf.bradley_terry_loss",
    function="bradley_terry_loss",
    points=2,
    reference=losses.bradley_terry_loss,
    visible_cases=_bt_cases,
    hidden_cases=_bt_hidden,
    compare=fields(allclose(rtol=1e-5, atol=1e-7)),
    bugs=(
        Bug("chosen_and_rejected_swapped", _bug_bt_swapped,
            "The log-sigmoid of r_w - r_l, chosen minus rejected: the loss is small when the "
            "chosen response scores higher."),
        Bug("sum_not_mean", _bug_bt_sum,
            "Average over the pairs (mean), as the lecture's 1 / (K choose 2) and the "
            "expectation do: a sum makes the step size grow with the batch."),
        Bug("log_of_sigmoid", _bug_bt_log_of_sigmoid,
            "log(sigmoid(x)) underflows for a large negative gap (sigmoid(-120) is 0 in "
            "float32, its log -inf): use F.logsigmoid, which stays finite."),
        Bug("no_log", _bug_bt_no_log,
            "Take the LOG of the sigmoid (F.logsigmoid): the loss is the negative "
            "log-likelihood of the labeller's choices, not minus their probability."),
        Bug("sign", _bug_bt_sign,
            "The loss to minimise is MINUS the mean log-sigmoid: -mean(log sigma(r_w - r_l))."),
        Bug("separate_terms", _bug_bt_separate_terms,
            "Bradley-Terry models the DIFFERENCE: log sigma(r_w - r_l) of each pair, not "
            "log sigma(r_w) + log sigma(-r_l) (each response labelled on its own)."),
    ),
    hint="loss = -F.logsigmoid(chosen_rewards - rejected_rewards).mean(), a scalar tensor.",
)

# --- preference_accuracy


def _accuracy_run(chosen, rejected, dtype=torch.float32) -> Run:
    return arrays_run((chosen, rejected), dtype)


def _one_number(compare: Comparator) -> Comparator:
    """``compare`` on an output that must be one number (a 0-dim array)."""

    def one(got: Any, expected: Any) -> str | None:
        if isinstance(got, np.ndarray) and got.shape != ():
            return f"return one number (a float); got an array of shape {got.shape}"
        return compare(got, expected)

    return one


def _accuracy_cases() -> list[Case]:
    rng = np.random.default_rng(721)
    return [
        Case("three pairs: one right, one wrong, one tie (worth 1/2): 0.5",
             run=_accuracy_run([2.0, 0.0, 1.0], [1.0, 1.0, 1.0])),
        Case("10 random pairs, no ties", run=_accuracy_run(rng.normal(size=10),
                                                          rng.normal(size=10))),
        Case("a constant reward model: every pair a tie, 0.5",
             run=_accuracy_run([0.7] * 4, [0.7] * 4)),
        Case("7 pairs with two ties, float64",
             run=_accuracy_run([1.0, 2.0, 2.0, 0.0, 5.0, -1.0, 3.0],
                               [0.0, 2.0, 3.0, 0.0, 1.0, -2.0, 4.0], torch.float64)),
    ]


def _accuracy_hidden(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(5, 40))
    chosen = rng.integers(-3, 4, size=n).astype(float)  # small integers: ties happen
    rejected = rng.integers(-3, 4, size=n).astype(float)
    return [Case("hidden: random scores with ties", run=_accuracy_run(chosen, rejected))]


def _bug_acc_ties_zero(chosen_rewards, rejected_rewards):
    return float((chosen_rewards > rejected_rewards).float().mean())


def _bug_acc_ties_one(chosen_rewards, rejected_rewards):
    return float((chosen_rewards >= rejected_rewards).float().mean())


def _bug_acc_swapped(chosen_rewards, rejected_rewards):
    gap = rejected_rewards - chosen_rewards
    return float(((gap > 0).float() + 0.5 * (gap == 0).float()).mean())


def _bug_acc_count(chosen_rewards, rejected_rewards):
    gap = chosen_rewards - rejected_rewards
    return float(((gap > 0).float() + 0.5 * (gap == 0).float()).sum())


def _bug_acc_ties_dropped(chosen_rewards, rejected_rewards):
    gap = chosen_rewards - rejected_rewards
    return float((gap > 0).float().sum() / (gap != 0).float().sum())


def _bug_acc_probability(chosen_rewards, rejected_rewards):
    return float(torch.sigmoid(chosen_rewards - rejected_rewards).mean())


PREFERENCE_ACCURACY = CheckSpec(
    name="rlhf.preference_accuracy",
    function="preference_accuracy",
    points=1,
    reference=losses.preference_accuracy,
    visible_cases=_accuracy_cases,
    hidden_cases=_accuracy_hidden,
    compare=_one_number(allclose(rtol=1e-6, atol=1e-9)),
    bugs=(
        Bug("ties_count_zero", _bug_acc_ties_zero,
            "A tie (r_w == r_l) is a coin flip: count it 1/2, so that a constant reward "
            "model scores 0.5 as the ceiling assumes."),
        Bug("ties_count_one", _bug_acc_ties_one,
            "A tie is not a success: count it 1/2 (>= counts it 1, so a constant model "
            "would score 100 %)."),
        Bug("chosen_and_rejected_swapped", _bug_acc_swapped,
            "A pair is right when the CHOSEN response scores higher: chosen_rewards > "
            "rejected_rewards."),
        Bug("count_not_fraction", _bug_acc_count,
            "Return the FRACTION of the pairs (mean), in [0, 1], not their count."),
        Bug("ties_left_out", _bug_acc_ties_dropped,
            "Keep the ties in the denominator, each worth 1/2: divide by the number of "
            "pairs (a constant model would give 0 / 0)."),
        Bug("mean_probability", _bug_acc_probability,
            "Accuracy counts the pairs the model gets right (r_w > r_l); the mean of "
            "sigma(r_w - r_l) is the predicted probability, another number."),
    ),
    hint="mean over the pairs of 1 if r_w > r_l, 1/2 if equal, 0 otherwise, as a float.",
)

# --- the learning run: the student's pieces train rlkit's reward model

#: the student's functions the learning run plugs into ``train_reward_model``: the pairs and
#: the loss train it; the accuracy only fills its history (rlkit's own is withheld while this
#: notebook is graded), the check measures the trained model itself
_TRAIN_KEYWORDS = {"ranking_pairs": "pairs_fn", "bradley_terry_loss": "loss_fn",
                   "preference_accuracy": "accuracy_fn"}
AGENT = tuple(_TRAIN_KEYWORDS)
REFERENCE_AGENT = {"ranking_pairs": losses.ranking_pairs,
                   "bradley_terry_loss": losses.bradley_terry_loss,
                   "preference_accuracy": losses.preference_accuracy}
#: the known bugs that train a reward model no better than chance (or worse: it learns the
#: labeller backwards), so the learning check fails them too; the others of the two banks
#: still learn (a sum is a mean times a constant for Adam, fewer pairs are still right pairs):
#: their own checks catch them (``benchmarks/bench_learning_checks.py --check rlhf``)
LEARNING_FAILS = (
    (RANKING_PAIRS, "chosen_and_rejected_swapped"),
    (RANKING_PAIRS, "positions_not_responses"),
    (BRADLEY_TERRY_LOSS, "chosen_and_rejected_swapped"),
    (BRADLEY_TERRY_LOSS, "sign"),
)
#: a reward model trained from each of LEARN_SEEDS (one: a run costs about a second of CPU;
#: :func:`learn_config`), its accuracy on the LEARN_HELD_OUT_PROMPTS fresh rankings of
#: LEARN_HELD_OUT_SEED; mean minus std over the seeds must reach LEARN_THRESHOLD (an untrained
#: model: 0.5; the ceiling: about 0.85)
LEARN_SEEDS = (0,)
LEARN_HELD_OUT_PROMPTS = 500
LEARN_HELD_OUT_SEED = 7_007
LEARN_THRESHOLD = 0.55


def learn_config() -> RewardModelConfig:
    """The learning run's settings, written out in full: about a second of CPU.

    A small reward model on 400 ranked prompts for three epochs: far from the ceiling (it
    learns mostly "more answers is better"), far above chance. rlkit's defaults may be retuned
    without moving this check.
    """
    return RewardModelConfig(task=TaskConfig(), n_prompts=400, k=4, n_held_out_prompts=50,
                             epochs=3, batch_size=32, learning_rate=3e-2,
                             final_learning_rate=0.0, embed_dim=16, hidden_size=32,
                             torch_threads=1)


def learn_run(seed: int) -> Run:
    """The box's learning run from ``seed``: it returns the trained reward model's parameters."""
    config = learn_config()
    settings = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
                if f.name != "task"}
    return reward_model_run(seed, settings, dataclasses.asdict(config.task))


@cache
def held_out_data() -> PreferenceData:
    """The learning check's held-out rankings: made, and their labels kept, in the judge."""
    return make_preference_data(LEARN_HELD_OUT_PROMPTS, learn_config().k, learn_config().task,
                                rng=LEARN_HELD_OUT_SEED)


def trained_reward_model(state: Any) -> RewardModel | None:
    """The reward model of :func:`learn_config` (rlkit's) with the parameters ``state``, or None.

    ``state`` is what the box's learning run returned: a dict of arrays with exactly the
    model's names and shapes, or it is not a reward model.
    """
    config = learn_config()
    model = RewardModel(config.task.vocab_size, config.embed_dim, config.hidden_size)
    expected = model.state_dict()
    if not isinstance(state, dict) or set(state) != set(expected):
        return None
    loaded = {}
    for name, value in expected.items():
        array = state[name]
        if (not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf"
                or array.shape != tuple(value.shape)):
            return None
        loaded[name] = torch.as_tensor(array, dtype=value.dtype)
    model.load_state_dict(loaded)
    return model.eval()


def held_out_accuracy(state: Any) -> float:
    """The accuracy of the reward model ``state`` on every comparison of the held-out rankings.

    With rlkit's model, pairs and accuracy, in the judge; 0.0 for what is not a reward model.
    """
    model = trained_reward_model(state)
    if model is None:
        return 0.0
    data = held_out_data()
    with torch.no_grad():
        scores = score_responses(model, torch.as_tensor(data.prompts),
                                 torch.as_tensor(data.responses)).double()
    prompt, chosen, rejected = pair_indices(data.rankings)
    return float(losses.preference_accuracy(scores[prompt, chosen], scores[prompt, rejected]))


def learning_run(agent: dict[str, Any], seed: int) -> float:
    """The held-out accuracy of the reward model ``agent``'s functions train from ``seed``."""
    return held_out_accuracy(learn_run(seed)(agent))


def _learned(got: Any, expected: Any) -> str | None:
    accuracies = list(got)
    rule = learning_rule(accuracies, cap=1.0)
    if not rule >= expected:  # NaN fails too
        shown = ", ".join(f"{a:.3f}" for a in accuracies)
        return (f"the reward model trained with your functions ranks the held-out pairs with "
                f"accuracy {shown} over the seeds {list(LEARN_SEEDS)}: mean minus std "
                f"{rule:.3f}, it must reach {expected:g} (an untrained model: 0.5; the "
                "ceiling: about 0.85)")
    return None


def _drive(call: Callable[[Run], Any]) -> list[float]:
    """Train in the box from each seed; measure each trained model here."""
    return [held_out_accuracy(call(learn_run(seed))) for seed in LEARN_SEEDS]


def _learning_cases() -> list[Case]:
    return [Case(f"learning: a reward model trained with your ranking_pairs and "
                 f"bradley_terry_loss on 400 ranked prompts, from each of the seeds "
                 f"{list(LEARN_SEEDS)}, then measured on {LEARN_HELD_OUT_PROMPTS} held-out "
                 "rankings", drive=_drive, expected=LEARN_THRESHOLD, compare=_learned,
                 training=True)]


LEARNS = learning_spec(
    "rlhf.reward_model_learns", AGENT, REFERENCE_AGENT, 2, _learning_cases, LEARNING_FAILS,
    hint="Your reward model does not learn the labeller's preferences. Make the checks of "
    "ranking_pairs and bradley_terry_loss pass first; if they do, run the training cell and "
    "look at the held-out accuracy after each epoch.",
)

register(RANKING_PAIRS, BRADLEY_TERRY_LOSS, PREFERENCE_ACCURACY, LEARNS)
