r"""A tiny causal language model and a reward model on the same trunk, from torch's modules.

Lecture 001's pipeline at toy scale: the policy :math:`\pi_\theta(y|x)` is an autoregressive
model over the task's tokens (:mod:`rlkit.rlhf.task`), read left to right over
``[prompt, SEP, response]``; the reward model :math:`r_\theta(x, y)` is the same kind of
trunk with a scalar head read at the response's last real token (InstructGPT initialises it
from the SFT model: :meth:`RewardModel.from_language_model`).

The trunk is an embedding and a one-layer GRU rather than a transformer: the sequences are
13 tokens long, and on one CPU thread a GRU of this size trains and samples several times
faster than ``nn.TransformerEncoder`` with a causal mask, with nothing to gain from attention
at this length. Sampling steps the GRU's hidden state one token at a time.

A response may hold only content tokens and EOS: the model's logits for PAD and SEP are
pinned to a large negative number, so they are never sampled and their probability is 0 in
every log-prob (finite, so that a masked-out position never turns a product into nan).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from rlkit.rlhf.losses import token_log_probs
from rlkit.rlhf.task import EOS, PAD, SEP

__all__ = [
    "CausalLM",
    "RewardModel",
    "Samples",
    "Trunk",
    "ValueModel",
    "join",
    "last_token_index",
    "response_mask",
    "response_states",
    "sample_responses",
]

_NEVER = -1e9
"""Logit of a token a response may not hold (PAD, SEP)."""


def join(prompts: torch.Tensor, responses: torch.Tensor) -> torch.Tensor:
    """The model's input ``[prompt, SEP, response]``, shape ``(B, P + 1 + T)``.

    Example:
        >>> join(torch.tensor([[0, 5, 6]]), torch.tensor([[7, 1, 0]])).tolist()
        [[0, 5, 6, 2, 7, 1, 0]]

    """
    if prompts.ndim != 2 or responses.ndim != 2 or len(prompts) != len(responses):
        raise ValueError(f"prompts (B, P) and responses (B, T) must share B; got "
                         f"{tuple(prompts.shape)} and {tuple(responses.shape)}")
    sep = torch.full((len(prompts), 1), SEP, dtype=prompts.dtype)
    return torch.cat([prompts, sep, responses], dim=1)


def response_mask(responses: torch.Tensor) -> torch.Tensor:
    """1 on a response's real tokens (up to and including its EOS), 0 on its padding.

    Example:
        >>> response_mask(torch.tensor([[7, 1, 0], [1, 0, 0]])).tolist()
        [[True, True, False], [True, False, False]]

    """
    return responses != PAD


def last_token_index(tokens: torch.Tensor) -> torch.Tensor:
    """Index of each row's last non-PAD token, ``(B,)`` (where a reward model reads).

    Example:
        >>> last_token_index(torch.tensor([[0, 5, 2, 7, 1, 0], [5, 6, 2, 1, 0, 0]])).tolist()
        [4, 3]

    """
    positions = torch.arange(tokens.shape[1]).expand_as(tokens)
    return torch.where(tokens != PAD, positions, -1).max(dim=1).values


class Trunk(nn.Module):
    """Token embedding and a one-layer GRU: the body the policy and the reward model share."""

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 64) -> None:
        """Build the trunk.

        Args:
            vocab_size: Number of token ids.
            embed_dim: Width of the token embedding.
            hidden_size: Width of the GRU's state.

        """
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.gru = nn.GRU(embed_dim, hidden_size, batch_first=True)

    def forward(
        self, tokens: torch.Tensor, state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden states ``(B, L, H)`` of every position, and the GRU state after the last."""
        return self.gru(self.embedding(tokens), state)

    @property
    def sizes(self) -> tuple[int, int, int]:
        """``(vocab_size, embed_dim, hidden_size)``: the arguments that build a trunk like it."""
        return (self.embedding.num_embeddings, self.embedding.embedding_dim,
                self.gru.hidden_size)


class _ScalarHeadModel(nn.Module):
    """A :class:`Trunk` and a linear head to one number (the reward model, the critic)."""

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 64) -> None:
        """Build the model (arguments as in :class:`Trunk`)."""
        super().__init__()
        self.trunk = Trunk(vocab_size, embed_dim, hidden_size)
        self.head = nn.Linear(hidden_size, 1)


def response_states(trunk: Trunk, prompts: torch.Tensor, responses: torch.Tensor) -> torch.Tensor:
    """Trunk states ``(B, T, H)``: state t has read the prompt, SEP and ``y_<t`` (not ``y_t``).

    The state from which response token t is predicted (the policy) or valued (the critic).
    """
    hidden, _ = trunk(join(prompts, responses)[:, :-1])
    return hidden[:, prompts.shape[1]:]


class CausalLM(nn.Module):
    r"""The policy :math:`\pi_\theta(y_t | x, y_{<t})`: a :class:`Trunk` and a vocabulary head.

    Example:
        >>> torch.manual_seed(0) and None
        >>> model = CausalLM(vocab_size=13)
        >>> prompts, responses = torch.tensor([[0, 0, 3, 4]]), torch.tensor([[8, 9, 1, 0]])
        >>> model.response_logits(prompts, responses).shape
        torch.Size([1, 4, 13])

    """

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_size: int = 64) -> None:
        """Build the model (arguments as in :class:`Trunk`)."""
        super().__init__()
        self.trunk = Trunk(vocab_size, embed_dim, hidden_size)
        self.head = nn.Linear(hidden_size, vocab_size)
        banned = torch.zeros(vocab_size)
        banned[[PAD, SEP]] = _NEVER
        self.register_buffer("banned", banned)

    def next_token_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits of the next token from trunk states ``(..., H)``; PAD and SEP never."""
        return self.head(hidden) + self.banned

    def response_logits(self, prompts: torch.Tensor, responses: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, T, V)``: position t predicts response token t (from SEP and ``y_<t``).

        Args:
            prompts: ``(B, P)`` left-padded prompts.
            responses: ``(B, T)`` responses (padding after EOS is read but predicts nothing
                that counts: mask it out of every loss with :func:`response_mask`).

        """
        return self.next_token_logits(response_states(self.trunk, prompts, responses))

    def log_probs(self, prompts: torch.Tensor, responses: torch.Tensor) -> torch.Tensor:
        """Per-token log-probs of the responses, 0 on padding, ``(B, T)``, with gradients."""
        logits = self.response_logits(prompts, responses)
        return token_log_probs(logits, responses, response_mask(responses))


class RewardModel(_ScalarHeadModel):
    r"""The reward model :math:`r_\theta(x, y)`: a :class:`Trunk` and a scalar head read at the
    response's last real token (its EOS, or its last token if it was cut).

    Example:
        >>> torch.manual_seed(0) and None
        >>> reward_model = RewardModel(vocab_size=13)
        >>> prompts, responses = torch.tensor([[0, 0, 3, 4]] * 2), torch.tensor([[8, 1], [1, 0]])
        >>> reward_model(prompts, responses).shape
        torch.Size([2])

    """  # noqa: D205

    @classmethod
    def from_language_model(cls, model: CausalLM) -> RewardModel:
        """A reward model whose trunk starts as a copy of ``model``'s (InstructGPT's recipe)."""
        reward_model = cls(*model.trunk.sizes)
        reward_model.trunk.load_state_dict(model.trunk.state_dict())
        return reward_model

    def forward(self, prompts: torch.Tensor, responses: torch.Tensor) -> torch.Tensor:
        """Scores ``(B,)`` of the responses to the prompts."""
        tokens = join(prompts, responses)
        hidden, _ = self.trunk(tokens)
        last = last_token_index(tokens)
        return self.head(hidden[torch.arange(len(tokens)), last]).squeeze(-1)


class ValueModel(_ScalarHeadModel):
    r"""PPO's critic :math:`V_\phi(x, y_{<t})`: a :class:`Trunk` and a scalar head at every
    response position, the value of the state before token t is chosen.

    Example:
        >>> torch.manual_seed(0) and None
        >>> critic = ValueModel.from_reward_model(RewardModel(vocab_size=13))
        >>> critic(torch.tensor([[0, 0, 3, 4]]), torch.tensor([[8, 9, 1, 0]])).shape
        torch.Size([1, 4])

    """  # noqa: D205

    @classmethod
    def from_reward_model(cls, reward_model: RewardModel) -> ValueModel:
        """A critic that starts as a copy of the reward model (InstructGPT's recipe)."""
        critic = cls(*reward_model.trunk.sizes)
        critic.load_state_dict(reward_model.state_dict())
        return critic

    def forward(self, prompts: torch.Tensor, responses: torch.Tensor) -> torch.Tensor:
        """Values ``(B, T)`` of the states before each response token."""
        return self.head(response_states(self.trunk, prompts, responses)).squeeze(-1)


class Samples(NamedTuple):
    """Responses sampled from a policy, with what the RL losses need."""

    responses: torch.Tensor
    """``(B, T)`` int64: content tokens, then EOS, then PAD (no EOS if cut at T)."""
    mask: torch.Tensor
    """``(B, T)`` bool, True on real tokens (:func:`response_mask` of ``responses``)."""
    log_probs: torch.Tensor
    """``(B, T)`` per-token log-probs under the sampling policy (0 on padding), no gradient."""


@torch.no_grad()
def sample_responses(
    model: CausalLM,
    prompts: torch.Tensor,
    max_len: int,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
) -> Samples:
    """Sample one response per prompt, token by token, until EOS or ``max_len`` tokens.

    Args:
        model: The policy.
        prompts: ``(B, P)`` left-padded prompts (repeat rows for several samples per prompt).
        max_len: Response width T.
        generator: Source of the sampling noise (seeded: same samples); None for torch's
            global generator.
        temperature: Divide the logits by this (> 0; the log-probs are those of the
            tempered distribution, the one sampled from).

    Returns:
        :class:`Samples`.

    Example:
        >>> torch.manual_seed(0) and None
        >>> model = CausalLM(vocab_size=13)
        >>> samples = sample_responses(model, torch.tensor([[0, 0, 3, 4]] * 5), max_len=8,
        ...                            generator=torch.Generator().manual_seed(0))
        >>> samples.responses.shape, bool((samples.mask == response_mask(samples.responses)).all())
        (torch.Size([5, 8]), True)

    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0; got {temperature}")
    batch = len(prompts)
    sep = torch.full((batch, 1), SEP, dtype=torch.long)
    hidden, state = model.trunk(torch.cat([prompts.long(), sep], dim=1))
    last = hidden[:, -1]
    responses = torch.full((batch, max_len), PAD, dtype=torch.long)
    log_probs = torch.zeros(batch, max_len)
    done = torch.zeros(batch, dtype=torch.bool)
    for t in range(max_len):
        step_log_probs = torch.log_softmax(model.next_token_logits(last) / temperature, dim=-1)
        tokens = torch.multinomial(step_log_probs.exp(), 1, generator=generator).squeeze(1)
        tokens = torch.where(done, PAD, tokens)
        responses[:, t] = tokens
        log_probs[:, t] = torch.where(done, 0.0, step_log_probs.gather(1, tokens[:, None])[:, 0])
        done = done | (tokens == EOS)
        if done.all():
            break
        hidden, state = model.trunk(tokens[:, None], state)
        last = hidden[:, -1]
    return Samples(responses, responses != PAD, log_probs)
