"""rlkit.rlhf.model and rlkit.rlhf.sft: shapes, masks, sampling, seeding, and SFT learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlkit.rlhf.losses import sequence_log_probs
from rlkit.rlhf.model import (
    CausalLM,
    RewardModel,
    last_token_index,
    response_mask,
    sample_responses,
)
from rlkit.rlhf.sft import SFTConfig, demonstration_nll, train_sft
from rlkit.rlhf.task import (
    EOS,
    FIRST_CONTENT,
    PAD,
    SEP,
    TaskConfig,
    demonstrations,
    sample_prompts,
)

TASK = TaskConfig()
V, T = TASK.vocab_size, TASK.max_response_len


def fresh(seed: int = 0) -> CausalLM:
    torch.manual_seed(seed)
    return CausalLM(V)


def prompts_tensor(n: int, seed: int = 0) -> torch.Tensor:
    return torch.as_tensor(sample_prompts(n, TASK, rng=seed))


def test_shapes():
    model, prompts = fresh(), prompts_tensor(5)
    responses = torch.as_tensor(demonstrations(prompts.numpy(), TASK, rng=0))
    assert model.response_logits(prompts, responses).shape == (5, T, V)
    assert model.log_probs(prompts, responses).shape == (5, T)
    assert RewardModel(V)(prompts, responses).shape == (5,)


def test_logits_are_causal_and_padding_never_counts():
    model, prompts = fresh(), prompts_tensor(4)
    responses = torch.as_tensor(demonstrations(prompts.numpy(), TASK, rng=1))
    mask = response_mask(responses)
    # changing what sits in the padding changes no log-prob of a real token
    scribbled = torch.where(mask, responses, torch.full_like(responses, FIRST_CONTENT + 1))
    before = sequence_log_probs(model.response_logits(prompts, responses), responses, mask)
    after = sequence_log_probs(model.response_logits(prompts, scribbled), scribbled, mask)
    assert torch.allclose(before, after)
    assert torch.allclose(model.log_probs(prompts, responses).sum(1), before)
    # changing token t changes nothing before t
    logits = model.response_logits(prompts, responses)
    changed = responses.clone()
    changed[:, 2] = FIRST_CONTENT
    assert torch.allclose(model.response_logits(prompts, changed)[:, :3], logits[:, :3])


def test_reward_model_reads_the_last_real_token():
    torch.manual_seed(0)
    reward_model = RewardModel(V)
    prompts = prompts_tensor(3)
    responses = torch.tensor([[5, 6, EOS, PAD], [EOS, PAD, PAD, PAD], [5, 6, 7, 8]])
    longer = torch.cat([responses, torch.full((3, 4), PAD)], dim=1)
    assert torch.allclose(reward_model(prompts, responses), reward_model(prompts, longer))
    tokens = torch.cat([prompts, torch.full((3, 1), SEP), responses], dim=1)
    assert last_token_index(tokens).tolist() == [4 + 1 + 2, 4 + 1 + 0, 4 + 1 + 3]


def test_reward_model_from_language_model_copies_the_trunk():
    model = fresh(3)
    reward_model = RewardModel.from_language_model(model)
    for name, tensor in model.trunk.state_dict().items():
        assert torch.equal(reward_model.trunk.state_dict()[name], tensor)


def test_sampling_respects_eos_and_pad():
    samples = sample_responses(fresh(), prompts_tensor(400), T, torch.Generator().manual_seed(0))
    responses = samples.responses
    assert not ((responses == PAD) & samples.mask).any()
    assert not (responses == SEP).any()
    for row in responses:
        ends = (row == EOS).nonzero()
        if len(ends):
            end = int(ends[0])
            assert (row[:end] >= FIRST_CONTENT).all() and (row[end + 1:] == PAD).all()
        else:
            assert (row >= FIRST_CONTENT).all()  # cut at T
    assert (samples.log_probs[~samples.mask] == 0).all()
    assert (samples.log_probs[samples.mask] < 0).all()


def test_sampled_log_probs_match_the_model():
    model, prompts = fresh(), prompts_tensor(64)
    samples = sample_responses(model, prompts, T, torch.Generator().manual_seed(1))
    recomputed = model.log_probs(prompts, samples.responses)
    assert torch.allclose(samples.log_probs, recomputed, atol=1e-5)


def test_sampling_is_seeded():
    model, prompts = fresh(), prompts_tensor(50)
    a = sample_responses(model, prompts, T, torch.Generator().manual_seed(7))
    b = sample_responses(model, prompts, T, torch.Generator().manual_seed(7))
    c = sample_responses(model, prompts, T, torch.Generator().manual_seed(8))
    assert torch.equal(a.responses, b.responses) and torch.equal(a.log_probs, b.log_probs)
    assert not torch.equal(a.responses, c.responses)


def test_temperature_must_be_positive():
    with pytest.raises(ValueError, match="temperature"):
        sample_responses(fresh(), prompts_tensor(2), T, temperature=0.0)


def test_sft_is_seeded_and_lowers_the_demonstrations_nll():
    config = SFTConfig(n_demonstrations=1_000, epochs=2, n_held_out=500)
    model, history = train_sft(config, seed=0)
    again, history_again = train_sft(config, seed=0)
    assert history.losses == history_again.losses
    for p, q in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(p, q)
    assert history.held_out_nll[-1] < history.held_out_nll[0] - 0.5
    prompts = prompts_tensor(300, seed=11)
    responses = torch.as_tensor(demonstrations(prompts.numpy(), TASK, rng=12))
    assert demonstration_nll(model, prompts, responses) < demonstration_nll(fresh(), prompts,
                                                                            responses) - 0.5
    assert torch.get_num_threads() >= 1
    assert np.isfinite(history.losses).all()
