r"""The synthetic language task of notebook 07: prompts, responses, a hidden gold reward.

Lecture 001, Part II ("RLHF in ChatGPT") needs a human who ranks responses; here a hidden
*gold* reward plays that human, so that every claim of the notebook can be measured against
the truth. Sequences are token ids over a small vocabulary:

- ``PAD`` (0) fills the unused positions: prompts are padded on the left, responses on the
  right, after their ``EOS``;
- ``EOS`` (1) ends a response; ``SEP`` (2) separates the prompt from the response;
- ``n_content`` content tokens, ``FIRST_CONTENT`` (3) onwards.

A prompt is 2 to 4 distinct content tokens; each content token ``c`` has one *answer*
(:func:`answer_of`: the token half-way round the content tokens). The gold reward of a
response ``y`` to a prompt ``x`` (:func:`gold_reward`) counts the prompt's tokens it answers,
minus a penalty for each distinct off-topic token and for each repetition:

.. math:: g(x, y) = \#\{\text{answers of } x \text{ in } y\}
    - c_\text{off} \#\{\text{other distinct tokens of } y\} - c_\text{rep} \#\{\text{repeats}\}.

The best response answers every prompt token once (``g = |x|``). Length is not rewarded.

Preference data (:func:`make_preference_data`): for each prompt, K candidate responses that
the labeller ranks best-first by sorting :math:`\beta_h u + \text{Gumbel noise}` (a
Plackett-Luce ranking). For such a ranking every pair has exactly the Bradley-Terry marginal
:math:`P(y_i \succ y_j) = \sigma(\beta_h (u_i - u_j))` (the difference of two Gumbels is
logistic), so the best accuracy any reward model can reach on held-out pairs is known:
:func:`preference_ceiling`.

The spurious feature, length: the labeller is a hurried human who favours longer answers,
ranking by the utility :math:`u = g + \lambda_\text{len} |y|` (:func:`labeller_utility`, 0.2
per content token by default; Singhal et al. 2023 measure this bias in real preference data),
so the pairs' probabilities are :math:`\sigma(\beta_h (u_i - u_j))` and the ceiling is
computed from :math:`u`. The candidates are drawn with distinct tokens (no repeats), and longer
ones are also mostly better (more answers), so nothing teaches a reward model that repeating a
token is bad. A reward model fits these pairs well by learning "longer is better", and a policy
optimised against it without a KL leash pads its answers with off-topic tokens and repeats
that the gold reward punishes: reward hacking, shown rather than told
(:func:`chosen_longer_fraction` measures the correlation in the pairs; the RL history's
lengths and repeats measure the hacking).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from rlkit.seeding import make_rng

__all__ = [
    "EOS",
    "FIRST_CONTENT",
    "GoldTerms",
    "PAD",
    "SEP",
    "PreferenceData",
    "TaskConfig",
    "answer_of",
    "chosen_longer_fraction",
    "demonstrations",
    "gold_reward",
    "gold_terms",
    "labeller_utility",
    "make_preference_data",
    "preference_ceiling",
    "rank_by_preference",
    "response_lengths",
    "sample_candidates",
    "sample_prompts",
]

PAD = 0
"""Padding: left of a prompt, right of a response after its EOS; never counts in a loss."""
EOS = 1
"""End of a response (a token the policy chooses, so its log-prob counts)."""
SEP = 2
"""Between the prompt and the response; the policy's first token is predicted at SEP."""
FIRST_CONTENT = 3
"""Id of the first content token."""


@dataclass(frozen=True)
class TaskConfig:
    """Settings of the synthetic task; the defaults are notebook 07's.

    Example:
        >>> TaskConfig().vocab_size, TaskConfig().sequence_length  # 4 + SEP + 8
        (13, 13)

    """

    n_content: int = 10
    """Content tokens (even, so that every token has an answer half-way round; 6 to 16)."""
    min_prompt_len: int = 2
    """Fewest content tokens in a prompt."""
    max_prompt_len: int = 4
    """Most content tokens in a prompt (prompts are left-padded to this width)."""
    max_response_len: int = 8
    """Response width T in tokens, EOS included; a response that has not ended by then is cut."""
    off_topic_penalty: float = 0.5
    """c_off: gold-reward cost of each distinct token that answers no prompt token."""
    repeat_penalty: float = 1.0
    """c_rep: gold-reward cost of each repetition of a token already in the response."""
    human_beta: float = 2.0
    """beta_h, the labeller's inverse temperature: P(y_i > y_j) = sigmoid(beta_h (g_i - g_j));
    larger is a less noisy labeller (1 to 5)."""
    max_candidate_off_topic: int = 3
    """Most off-topic tokens in a preference candidate (uniform from 0 to this)."""
    demo_answer_prob: float = 0.75
    """The demonstrator answers each prompt token with this probability (decent, not optimal)."""
    demo_off_topic_prob: float = 0.25
    """The demonstrator adds each of two off-topic tokens with this probability."""
    length_bias: float = 0.2
    """lambda_len, the labeller's length bias: each content token of a response adds this to
    the utility the labeller ranks by, u = g + lambda_len |y| (:func:`labeller_utility`); the
    gold reward has no such term (0: an unbiased labeller; 0.1 to 0.5)."""

    def __post_init__(self) -> None:
        if self.n_content < 4 or self.n_content % 2:
            raise ValueError(f"n_content must be even and >= 4; got {self.n_content}")
        if not 1 <= self.min_prompt_len <= self.max_prompt_len <= self.n_content // 2:
            raise ValueError(
                "need 1 <= min_prompt_len <= max_prompt_len <= n_content // 2; got "
                f"{self.min_prompt_len}, {self.max_prompt_len}, n_content={self.n_content}"
            )
        longest = self.max_prompt_len + max(self.max_candidate_off_topic, 2) + 1
        if self.max_response_len < longest:
            raise ValueError(f"max_response_len must be >= {longest} (answers + off-topic + "
                             f"EOS); got {self.max_response_len}")
        for name in ("off_topic_penalty", "repeat_penalty", "human_beta", "length_bias"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0; got {getattr(self, name)}")
        for name in ("demo_answer_prob", "demo_off_topic_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1]; got {getattr(self, name)}")

    @property
    def vocab_size(self) -> int:
        """PAD, EOS, SEP and the content tokens."""
        return FIRST_CONTENT + self.n_content

    @property
    def sequence_length(self) -> int:
        """Width of a prompt, SEP and a response side by side."""
        return self.max_prompt_len + 1 + self.max_response_len


def answer_of(tokens: np.ndarray, config: TaskConfig = TaskConfig()) -> np.ndarray:  # noqa: B008
    """The answer of each content token: the token ``n_content / 2`` further round.

    Example:
        >>> answer_of(np.array([3, 4, 8, 12])).tolist()  # 10 content tokens, ids 3..12
        [8, 9, 3, 7]

    """
    tokens = np.asarray(tokens)
    half = config.n_content // 2
    return FIRST_CONTENT + (tokens - FIRST_CONTENT + half) % config.n_content


def sample_prompts(
    n: int,
    config: TaskConfig = TaskConfig(),  # noqa: B008 (frozen)
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """``n`` prompts of distinct content tokens, left-padded with PAD, shape ``(n, P)``.

    A prompt never holds a token and its answer (so that no response token is both).

    Example:
        >>> prompts = sample_prompts(3, rng=0)
        >>> prompts.shape, bool(((prompts == PAD) | (prompts >= FIRST_CONTENT)).all())
        ((3, 4), True)

    """
    rng = make_rng(rng)
    half = config.n_content // 2
    prompts = np.full((n, config.max_prompt_len), PAD, dtype=np.int64)
    lengths = rng.integers(config.min_prompt_len, config.max_prompt_len + 1, size=n)
    for row, length in enumerate(lengths):
        # one token from each (token, answer) couple: distinct, and no token answers another
        couples = rng.choice(half, size=length, replace=False)
        tokens = FIRST_CONTENT + couples + half * rng.integers(0, 2, size=length)
        prompts[row, config.max_prompt_len - length:] = tokens
    return prompts


def response_lengths(responses: np.ndarray) -> np.ndarray:
    """Tokens of each response up to and including its EOS (its non-PAD tokens), ``(n,)``.

    Example:
        >>> response_lengths(np.array([[5, 1, 0, 0], [1, 0, 0, 0]])).tolist()
        [2, 1]

    """
    return (np.asarray(responses) != PAD).sum(axis=-1)


def gold_reward(
    prompts: np.ndarray,
    responses: np.ndarray,
    config: TaskConfig = TaskConfig(),  # noqa: B008 (frozen)
) -> np.ndarray:
    r"""The hidden human's score :math:`g(x, y)` of each response (see the module docstring).

    Args:
        prompts: ``(n, P)`` left-padded prompts.
        responses: ``(n, T)`` responses; tokens after the first EOS are ignored.
        config: The task (vocabulary and penalties).

    Returns:
        ``(n,)`` float64 rewards; the best response to a prompt of length m scores m.

    Example:
        >>> prompts = np.array([[0, 0, 3, 4]])                   # answers: 8 and 9
        >>> best, padded = [[8, 9, 1, 0]], [[8, 9, 9, 5, 1, 0]]  # + a repeat, an off-topic 5
        >>> gold_reward(prompts, np.array(best)), gold_reward(prompts, np.array(padded))
        (array([2.]), array([0.5]))

    """
    terms = gold_terms(prompts, responses, config)
    return (terms.answered - config.off_topic_penalty * terms.off_topic
            - config.repeat_penalty * terms.repeats).astype(np.float64)


class GoldTerms(NamedTuple):
    """The counts the gold reward is made of, one entry per response (int64 ``(n,)`` each)."""

    answered: np.ndarray
    """Prompt tokens the response answers."""
    off_topic: np.ndarray
    """Distinct response tokens that answer no prompt token."""
    repeats: np.ndarray
    """Repetitions of a token already in the response."""


def gold_terms(
    prompts: np.ndarray,
    responses: np.ndarray,
    config: TaskConfig = TaskConfig(),  # noqa: B008 (frozen)
) -> GoldTerms:
    """What :func:`gold_reward` counts: answers, distinct off-topic tokens, repeats.

    Example:
        >>> gold_terms(np.array([[0, 0, 3, 4]]), np.array([[8, 9, 9, 5, 1, 0]]))
        GoldTerms(answered=array([2]), off_topic=array([1]), repeats=array([1]))

    """
    prompts, responses = np.asarray(prompts), np.asarray(responses)
    if prompts.ndim != 2 or responses.ndim != 2 or len(prompts) != len(responses):
        raise ValueError(f"prompts (n, P) and responses (n, T) must have the same n; got "
                         f"{prompts.shape} and {responses.shape}")
    ended = np.cumsum(responses == EOS, axis=1) > 0
    content = (responses >= FIRST_CONTENT) & ~ended
    counts = _token_counts(np.where(content, responses, PAD), config)
    wanted = _token_counts(np.where(prompts >= FIRST_CONTENT, answer_of(prompts, config), PAD),
                           config) > 0
    present = counts > 0
    return GoldTerms((present & wanted).sum(axis=1), (present & ~wanted).sum(axis=1),
                     np.maximum(counts - 1, 0).sum(axis=1))


def labeller_utility(
    prompts: np.ndarray,
    responses: np.ndarray,
    config: TaskConfig = TaskConfig(),  # noqa: B008 (frozen)
) -> np.ndarray:
    r"""What the labeller ranks by: :math:`u(x, y) = g(x, y) + \lambda_\text{len} |y|`.

    :math:`|y|` counts the response's content tokens (EOS and what follows it excluded). With
    ``length_bias`` 0 it is the gold reward.

    Example:
        >>> config = TaskConfig(length_bias=0.25)
        >>> labeller_utility(np.array([[0, 0, 3, 4]]), np.array([[8, 9, 5, 1, 0]]), config)
        array([2.25])

    """
    terms = gold_terms(prompts, responses, config)
    content = terms.answered + terms.off_topic + terms.repeats
    return gold_reward(prompts, responses, config) + config.length_bias * content


def _token_counts(tokens: np.ndarray, config: TaskConfig) -> np.ndarray:
    """Occurrences of each content token per row, ``(n, n_content)``; other ids are dropped."""
    counts = np.zeros((len(tokens), config.vocab_size), dtype=np.int64)
    rows = np.repeat(np.arange(len(tokens)), tokens.shape[1])
    np.add.at(counts, (rows, tokens.reshape(-1)), 1)
    return counts[:, FIRST_CONTENT:]


def _compose(
    prompt: np.ndarray,
    answer_prob: float,
    n_off_topic: int,
    rng: np.random.Generator,
    config: TaskConfig,
) -> list[int]:
    """One response without repeats: some of the prompt's answers and some other tokens."""
    tokens = prompt[prompt >= FIRST_CONTENT]
    answers = answer_of(tokens, config)
    kept = answers[rng.random(len(answers)) < answer_prob]
    # the content tokens that answer nothing, sorted (np.setdiff1d's result, 10x faster)
    free = np.ones(config.vocab_size, dtype=bool)
    free[answers] = False
    others = np.flatnonzero(free[FIRST_CONTENT:]) + FIRST_CONTENT
    extra = rng.choice(others, size=min(n_off_topic, len(others)), replace=False)
    body = rng.permutation(np.concatenate([kept, extra]))
    return [*body.tolist(), EOS]


def _pad_responses(bodies: list[list[int]], config: TaskConfig) -> np.ndarray:
    responses = np.full((len(bodies), config.max_response_len), PAD, dtype=np.int64)
    for row, body in enumerate(bodies):
        responses[row, :len(body)] = body
    return responses


def demonstrations(
    prompts: np.ndarray,
    config: TaskConfig = TaskConfig(),  # noqa: B008 (frozen)
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """The demonstrator's responses for SFT, ``(n, T)``: decent, not optimal.

    Each prompt token is answered with probability ``demo_answer_prob``, and each of two
    off-topic tokens is added with probability ``demo_off_topic_prob``, in a random order.

    Example:
        >>> config = TaskConfig()
        >>> prompts = sample_prompts(2000, config, rng=0)
        >>> gold = gold_reward(prompts, demonstrations(prompts, config, rng=1), config)
        >>> best = (prompts != PAD).sum(axis=1)
        >>> bool(0.6 < gold.mean() / best.mean() < 0.75)  # about 0.75 - 0.5 * 2 * 0.25 / 3
        True

    """
    rng = make_rng(rng)
    bodies = [_compose(prompt, config.demo_answer_prob,
                       int(rng.binomial(2, config.demo_off_topic_prob)), rng, config)
              for prompt in np.asarray(prompts)]
    return _pad_responses(bodies, config)


def sample_candidates(
    prompts: np.ndarray,
    k: int,
    config: TaskConfig = TaskConfig(),  # noqa: B008 (frozen)
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """K candidate responses per prompt for the labeller to rank, ``(n, k, T)``.

    Each candidate answers each prompt token with its own probability (uniform in [0, 1]) and
    adds 0 to ``max_candidate_off_topic`` off-topic tokens; no token repeats (the spurious
    feature: here longer responses are mostly better).
    """
    if k < 2:
        raise ValueError(f"k must be >= 2 (a ranking needs two responses); got {k}")
    rng = make_rng(rng)
    bodies = [_compose(prompt, float(rng.random()),
                       int(rng.integers(0, config.max_candidate_off_topic + 1)), rng, config)
              for prompt in np.asarray(prompts) for _ in range(k)]
    return _pad_responses(bodies, config).reshape(len(prompts), k, config.max_response_len)


def rank_by_preference(
    gold: np.ndarray, human_beta: float, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    r"""The labeller's rankings, best first: sort :math:`\beta_h g + \text{Gumbel}` descending.

    This is a Plackett-Luce ranking, whose pairwise marginals are exactly Bradley-Terry:
    :math:`P(i \text{ ranked above } j) = \sigma(\beta_h (g_i - g_j))`.

    Args:
        gold: ``(n, k)`` gold rewards of the candidates.
        human_beta: The labeller's inverse temperature (0: rankings uniformly at random).
        rng: Seed or Generator of the labeller's noise.

    Returns:
        ``(n, k)`` int64 candidate indices, the preferred one first.

    Example:
        >>> rank_by_preference(np.array([[0.0, 3.0, 1.0]]), human_beta=100.0, rng=0).tolist()
        [[1, 2, 0]]

    """
    rng = make_rng(rng)
    gold = np.asarray(gold, dtype=np.float64)
    utilities = human_beta * gold + rng.gumbel(size=gold.shape)
    return np.argsort(-utilities, axis=1, kind="stable").astype(np.int64)


def preference_ceiling(gold: np.ndarray, human_beta: float) -> float:
    r"""The best expected accuracy of any reward model on the pairs of these rankings.

    The Bayes-optimal prediction for a pair is the response with the higher gold reward; it is
    right with probability :math:`\max(p, 1 - p) = \sigma(\beta_h |g_i - g_j|)`, and 1/2 on a
    tie whatever the prediction. Averaged over all K(K-1)/2 pairs of every prompt.

    Args:
        gold: ``(n, k)`` gold rewards of the ranked candidates.
        human_beta: The labeller's inverse temperature.

    Returns:
        The ceiling, in [0.5, 1].

    Example:
        >>> round(preference_ceiling(np.array([[0.0, 1.0]]), human_beta=2.0), 4)  # sigmoid(2)
        0.8808

    """
    gold = np.asarray(gold, dtype=np.float64)
    i, j = np.triu_indices(gold.shape[1], k=1)
    gaps = np.abs(gold[:, i] - gold[:, j])
    return float(np.mean(1.0 / (1.0 + np.exp(-human_beta * gaps))))


class PreferenceData(NamedTuple):
    """Rankings of K responses per prompt (lecture 001: "A labeler ranks the outputs")."""

    prompts: np.ndarray
    """``(n, P)`` left-padded prompts."""
    responses: np.ndarray
    """``(n, k, T)`` candidate responses."""
    rankings: np.ndarray
    """``(n, k)`` indices into ``responses``, the labeller's favourite first."""
    gold: np.ndarray
    """``(n, k)`` the hidden gold rewards (for plots and evaluation, never for training)."""
    utility: np.ndarray
    """``(n, k)`` the labeller's utilities (:func:`labeller_utility`), whose Bradley-Terry
    probabilities the rankings follow: the ceiling's input (equal to ``gold`` when the
    labeller has no length bias)."""


def make_preference_data(
    n_prompts: int,
    k: int = 4,
    config: TaskConfig = TaskConfig(),  # noqa: B008 (frozen)
    rng: np.random.Generator | int | None = None,
) -> PreferenceData:
    """Prompts, K candidates each and the labeller's noisy rankings of them.

    Example:
        >>> data = make_preference_data(500, k=4, rng=0)
        >>> data.responses.shape, data.rankings.shape
        ((500, 4, 8), (500, 4))
        >>> 0.7 < preference_ceiling(data.utility, TaskConfig().human_beta) < 0.9
        True

    """
    rng = make_rng(rng)
    prompts = sample_prompts(n_prompts, config, rng)
    responses = sample_candidates(prompts, k, config, rng)
    flat = np.repeat(prompts, k, axis=0), responses.reshape(n_prompts * k, -1)
    gold = gold_reward(*flat, config).reshape(n_prompts, k)
    utility = labeller_utility(*flat, config).reshape(n_prompts, k)
    rankings = rank_by_preference(utility, config.human_beta, rng)
    return PreferenceData(prompts, responses, rankings, gold, utility)


def chosen_longer_fraction(chosen: np.ndarray, rejected: np.ndarray) -> float:
    """Of the pairs whose responses differ in length, the fraction where the chosen is longer.

    0.5 means length says nothing about preference; the preference data is well above it.

    Example:
        >>> chosen_longer_fraction(np.array([[5, 6, 1], [5, 1, 0]]), np.array([[5, 1, 0]] * 2))
        1.0

    """
    gap = response_lengths(chosen) - response_lengths(rejected)
    if not (gap != 0).any():
        return 0.5
    return float((gap[gap != 0] > 0).mean())
