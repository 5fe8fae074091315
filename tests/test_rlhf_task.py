"""rlkit.rlhf.task: the gold reward, the labeller's rankings and the accuracy ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from rlkit.rlhf.task import (
    EOS,
    FIRST_CONTENT,
    PAD,
    TaskConfig,
    answer_of,
    chosen_longer_fraction,
    demonstrations,
    gold_reward,
    labeller_utility,
    make_preference_data,
    preference_ceiling,
    rank_by_preference,
    sample_candidates,
    sample_prompts,
)

CONFIG = TaskConfig()


def test_answers_pair_up():
    tokens = np.arange(FIRST_CONTENT, CONFIG.vocab_size)
    assert (answer_of(answer_of(tokens)) == tokens).all()
    assert (answer_of(tokens) != tokens).all()


def test_gold_reward_known_answers():
    prompts = np.array([[0, 0, 3, 4]] * 5)  # answers 8 and 9
    responses = np.array([
        [8, 9, EOS, PAD, PAD],       # both answered: 2
        [9, EOS, PAD, PAD, PAD],     # one: 1
        [8, 8, 9, EOS, PAD],         # a repeat: 2 - 1
        [5, 8, EOS, 9, 9],           # off-topic 5; the tokens after EOS do not count
        [EOS, 8, PAD, PAD, PAD],     # empty
    ])
    assert gold_reward(prompts, responses).tolist() == [2.0, 1.0, 1.0, 0.5, 0.0]


def test_prompts_are_distinct_tokens_without_their_answers():
    prompts = sample_prompts(300, CONFIG, rng=1)
    for prompt in prompts:
        tokens = prompt[prompt != PAD]
        assert CONFIG.min_prompt_len <= len(tokens) <= CONFIG.max_prompt_len
        assert len(set(tokens)) == len(tokens)
        assert not set(answer_of(tokens)) & set(tokens)
        assert (prompt[: len(prompt) - len(tokens)] == PAD).all()  # left-padded


def test_responses_end_with_eos_then_pad():
    prompts = sample_prompts(200, CONFIG, rng=2)
    for responses in (demonstrations(prompts, CONFIG, rng=3),
                      sample_candidates(prompts, 3, CONFIG, rng=3).reshape(-1, 8)):
        for response in responses:
            end = int(np.argmax(response == EOS))
            assert response[end] == EOS
            assert (response[:end] >= FIRST_CONTENT).all() and (response[end + 1:] == PAD).all()


def test_seeded():
    a, b = make_preference_data(50, 4, CONFIG, rng=7), make_preference_data(50, 4, CONFIG, rng=7)
    for x, y in zip(a, b, strict=True):
        assert (x == y).all()


def test_rankings_have_bradley_terry_marginals():
    gold = np.tile([0.0, 0.5, 1.0, 2.0], (20_000, 1))
    rankings = rank_by_preference(gold, human_beta=1.5, rng=0)
    position = np.argsort(rankings, axis=1)  # position[n, i]: rank of candidate i
    for i, j in [(1, 0), (2, 0), (3, 1), (3, 2)]:
        observed = np.mean(position[:, i] < position[:, j])
        expected = 1 / (1 + np.exp(-1.5 * (gold[0, i] - gold[0, j])))
        assert observed == pytest.approx(expected, abs=0.012)


def test_ceiling_is_the_labeller_utilitys_accuracy():
    data = make_preference_data(3000, 4, CONFIG, rng=4)
    position = np.argsort(data.rankings, axis=1)
    i, j = np.triu_indices(4, k=1)
    i_first = position[:, i] < position[:, j]

    def accuracy(scores):
        gap = scores[:, i] - scores[:, j]
        return np.where(gap == 0, 0.5, (gap > 0) == i_first).mean()

    ceiling = preference_ceiling(data.utility, CONFIG.human_beta)
    assert accuracy(data.utility) == pytest.approx(ceiling, abs=0.01)
    assert accuracy(data.gold) < accuracy(data.utility)  # the labeller is not the gold reward
    assert preference_ceiling(np.zeros((3, 4)), 2.0) == 0.5


def test_the_labeller_favours_length_by_length_bias():
    prompts = np.array([[0, 0, 3, 4]] * 3)  # answers 8 and 9
    responses = np.array([[8, EOS, 0, 0, 0], [8, 5, 6, EOS, 0], [8, 8, 8, 8, 8]])  # last: cut
    gold = gold_reward(prompts, responses)
    assert gold.tolist() == [1.0, 0.0, -3.0]
    assert (labeller_utility(prompts, responses, TaskConfig(length_bias=0.0)) == gold).all()
    biased = labeller_utility(prompts, responses, TaskConfig(length_bias=0.5))
    assert biased.tolist() == [1.5, 1.5, -0.5]  # + 0.5 per content token
    unbiased = make_preference_data(2000, 4, TaskConfig(length_bias=0.0), rng=5)
    assert (unbiased.utility == unbiased.gold).all()

    def chosen_longer(data):
        first, last = data.rankings[:, 0], data.rankings[:, -1]
        rows = np.arange(len(first))
        return chosen_longer_fraction(data.responses[rows, first], data.responses[rows, last])

    assert chosen_longer(make_preference_data(2000, 4, CONFIG, rng=5)) > chosen_longer(unbiased)


def test_bad_settings_say_what_to_fix():
    with pytest.raises(ValueError, match="n_content"):
        TaskConfig(n_content=7)
    with pytest.raises(ValueError, match="max_response_len"):
        TaskConfig(max_response_len=4)
    with pytest.raises(ValueError, match="length_bias must be >= 0"):
        TaskConfig(length_bias=-0.1)
