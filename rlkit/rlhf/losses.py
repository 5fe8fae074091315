r"""The math pieces of RLHF, as top-level functions with notebook 07's signatures.

Reward modelling (lecture 001, "Reward model as a Human preference proxy"): a ranking of K
responses gives K(K-1)/2 comparisons (:func:`ranking_pairs`), each scored by the
Bradley-Terry loss :math:`-\log\sigma(r_\theta(x, y_w) - r_\theta(x, y_l))`
(:func:`bradley_terry_loss`, :func:`preference_accuracy`).

Policy optimisation against the reward model ("PPO for LLM"): the log-probability of a
response is the sum of its tokens' (:func:`sequence_log_probs`), and the reward is the
reward-model score minus :math:`\beta \log(\pi^\text{RL} / \pi^\text{SFT})`, spread over the
tokens as in InstructGPT (:func:`kl_penalized_rewards`); RLOO's baseline is the mean reward of
the other samples of the same prompt (:func:`rloo_advantages`).

Without a reward model (lecture 003's table): DPO's loss (:func:`dpo_loss`) and REBEL's
regression of relative rewards (:func:`rebel_loss`).

Shapes: B sequences, T response tokens, V vocabulary; ``mask`` is 1 on the response's real
tokens (its EOS included) and 0 on padding.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from rlkit.nets import require_same_shape

__all__ = [
    "bradley_terry_loss",
    "dpo_loss",
    "kl_penalized_rewards",
    "preference_accuracy",
    "ranking_pairs",
    "rebel_loss",
    "rloo_advantages",
    "sequence_log_probs",
    "token_log_probs",
]


def ranking_pairs(ranking: np.ndarray | list[int]) -> list[tuple[int, int]]:
    """The K(K-1)/2 comparisons of a ranking, as ``(chosen, rejected)`` index pairs.

    Every response is preferred to every response ranked below it. The pairs come in order:
    the best against each of the others from the top down, then the second best, and so on.

    Args:
        ranking: K response indices, the labeller's favourite first (e.g. ``D > C > A = B``
            broken as ``[3, 2, 0, 1]``).

    Returns:
        A list of K(K-1)/2 ``(chosen, rejected)`` tuples of plain ints.

    Example:
        >>> ranking_pairs([3, 2, 0])
        [(3, 2), (3, 0), (2, 0)]

    """
    ranking = [int(index) for index in np.asarray(ranking).reshape(-1)]
    if len(set(ranking)) != len(ranking):
        raise ValueError(f"a ranking lists each response once; got {ranking}")
    return [(ranking[i], ranking[j])
            for i in range(len(ranking)) for j in range(i + 1, len(ranking))]


def bradley_terry_loss(
    chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor
) -> torch.Tensor:
    r"""The reward model's loss :math:`-\frac1N \sum \log\sigma(r_\theta(x, y_w) -
    r_\theta(x, y_l))`.

    The negative log-likelihood of the labeller's choices under the Bradley-Terry model
    :math:`P(y_w \succ y_l) = \sigma(r_w - r_l)`: a logistic regression on the reward gap.
    ``logsigmoid`` keeps it finite for large gaps (``log(sigmoid(-100))`` is ``-inf``).

    Args:
        chosen_rewards: :math:`r_\theta(x, y_w)`, shape ``(N,)``.
        rejected_rewards: :math:`r_\theta(x, y_l)` of the same pairs, ``(N,)``.

    Returns:
        A scalar tensor; ln 2 when the rewards cannot tell the two apart.

    Example:
        >>> bradley_terry_loss(torch.tensor([1.0, 0.0]), torch.tensor([1.0, 0.0]))
        tensor(0.6931)

    """  # noqa: D205
    require_same_shape("chosen_rewards", chosen_rewards, rejected_rewards=rejected_rewards)
    return -F.logsigmoid(chosen_rewards - rejected_rewards).mean()


def preference_accuracy(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor) -> float:
    """Fraction of pairs where the reward model agrees with the labeller; a tie counts 1/2.

    A tie is a coin flip, worth 1/2 in expectation, as in
    :func:`rlkit.rlhf.task.preference_ceiling` (so a constant reward model scores 0.5, not 0).

    Args:
        chosen_rewards: ``(N,)`` rewards of the preferred responses.
        rejected_rewards: ``(N,)`` rewards of the others.

    Returns:
        The accuracy as a float in [0, 1].

    Example:
        >>> preference_accuracy(torch.tensor([2.0, 0.0, 1.0]), torch.tensor([1.0, 1.0, 1.0]))
        0.5

    """
    require_same_shape("chosen_rewards", chosen_rewards, rejected_rewards=rejected_rewards)
    gap = torch.as_tensor(chosen_rewards) - torch.as_tensor(rejected_rewards)
    return float(((gap > 0).double() + 0.5 * (gap == 0).double()).mean())


def token_log_probs(
    logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    r"""Per-token :math:`\log\pi(y_t|x, y_{<t})` of the response, 0 on padding, ``(B, T)``.

    The per-token form that :func:`kl_penalized_rewards` takes; :func:`sequence_log_probs`
    sums it. Arguments as in :func:`sequence_log_probs`.

    Example:
        >>> token_log_probs(torch.zeros(1, 2, 2), torch.tensor([[1, 0]]), torch.tensor([[1, 0]]))
        tensor([[-0.6931,  0.0000]])

    """
    if logits.ndim != 3 or tuple(logits.shape[:2]) != tuple(tokens.shape):
        raise ValueError(f"logits must be (B, T, V) with tokens (B, T); got {tuple(logits.shape)} "
                         f"and {tuple(tokens.shape)}")
    require_same_shape("tokens", tokens, mask=mask)
    log_probs = torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    # where(), not a product: a padded position may hold a -inf log-prob, and -inf * 0 is nan
    return torch.where(mask.bool(), log_probs, 0.0)


def sequence_log_probs(
    logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    r""":math:`\log\pi(y|x) = \sum_t \log\pi(y_t|x, y_{<t})` over the response's real tokens.

    Args:
        logits: ``(B, T, V)``: at position t, the model's logits for response token t (the
            model read the prompt and tokens ``< t``).
        tokens: ``(B, T)`` the response tokens (int64).
        mask: ``(B, T)``, 1 on real response tokens (EOS included), 0 on padding. Padding
            never counts, whatever its logits are.

    Returns:
        ``(B,)`` log-probabilities, with gradients through ``logits``.

    Example:
        >>> logits = torch.zeros(1, 3, 4)  # uniform over 4 tokens: log(1/4) each
        >>> sequence_log_probs(logits, torch.tensor([[2, 1, 0]]), torch.tensor([[1, 1, 0]]))
        tensor([-2.7726])

    """
    return token_log_probs(logits, tokens, mask).sum(dim=-1)


def kl_penalized_rewards(
    score: torch.Tensor,
    log_probs: torch.Tensor,
    ref_log_probs: torch.Tensor,
    mask: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    r"""Per-token rewards :math:`r_t = -\beta(\log\pi(y_t|\cdot) - \log\pi_\text{ref}(y_t|\cdot))`,
    plus the reward model's score :math:`r_\theta(x, y)` on the response's last real token.

    Summed over a response they give the lecture's objective :math:`r_\theta(x, y) - \beta
    \log(\pi^\text{RL}(y|x) / \pi^\text{SFT}(y|x))` (InstructGPT's per-token form). Padding gets
    0. The rewards are constants of the policy update (detached).

    Args:
        score: ``(B,)`` reward-model scores.
        log_probs: ``(B, T)`` per-token log-probs of the sampled tokens under the policy.
        ref_log_probs: ``(B, T)`` the same under the reference (SFT) policy.
        mask: ``(B, T)`` 1 on real response tokens; each row has at least one.
        beta: The KL coefficient :math:`\beta \ge 0`.

    Returns:
        ``(B, T)`` rewards.

    Example:
        >>> log_probs = torch.tensor([[-1.0, -1.0, 0.0]])
        >>> ref_log_probs = torch.tensor([[-2.0, -1.0, 0.0]])
        >>> kl_penalized_rewards(torch.tensor([3.0]), log_probs, ref_log_probs,
        ...                      torch.tensor([[1, 1, 0]]), beta=0.5)
        tensor([[-0.5000,  3.0000,  0.0000]])

    """  # noqa: D205
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0; got {beta}")
    require_same_shape("log_probs", log_probs, ref_log_probs=ref_log_probs, mask=mask)
    if tuple(score.shape) != (log_probs.shape[0],):
        raise ValueError(f"score must be (B,) = ({log_probs.shape[0]},); got {tuple(score.shape)}")
    mask = mask.bool()
    lengths = mask.sum(dim=1)
    if (lengths == 0).any():
        raise ValueError("every response needs at least one real token in mask")
    rewards = torch.where(mask, -beta * (log_probs - ref_log_probs).detach(), 0.0)
    last = (lengths - 1).unsqueeze(1)
    return rewards.scatter_add(1, last, score.detach().to(rewards.dtype).unsqueeze(1))


def rloo_advantages(rewards: torch.Tensor) -> torch.Tensor:
    r"""RLOO's advantages: each sample's reward minus the mean of the *other* k-1 of its prompt.

    .. math:: A_i = R_i - \frac{1}{k-1}\sum_{j \ne i} R_j = \frac{k}{k-1}\Big(R_i -
        \frac1k\sum_j R_j\Big)

    The baseline leaves the sample out, so it does not depend on the sample's own action and
    the gradient stays unbiased (Kool et al., 2019; Ahmadian et al., 2024). Per prompt the
    advantages sum to 0.

    Args:
        rewards: ``(n_prompts, k)`` sequence rewards, k >= 2 samples per prompt.

    Returns:
        ``(n_prompts, k)`` advantages.

    Example:
        >>> rloo_advantages(torch.tensor([[1.0, 2.0, 6.0]]))
        tensor([[-3.0000, -1.5000,  4.5000]])

    """
    if rewards.ndim != 2 or rewards.shape[1] < 2:
        raise ValueError(f"rewards must be (n_prompts, k) with k >= 2; got {tuple(rewards.shape)}")
    k = rewards.shape[1]
    others_mean = (rewards.sum(dim=1, keepdim=True) - rewards) / (k - 1)
    return rewards - others_mean


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    r"""DPO (Rafailov et al., 2023): the Bradley-Terry loss with the implicit reward
    :math:`\beta \log(\pi_\theta(y|x) / \pi_\text{ref}(y|x))`.

    .. math:: -\frac1N\sum \log\sigma\Big(\beta\big[(\log\pi_\theta(y_w) - \log\pi_\text{ref}(y_w))
        - (\log\pi_\theta(y_l) - \log\pi_\text{ref}(y_l))\big]\Big)

    No reward model and no sampling: it trains on the preference pairs directly. The reference
    log-probs are constants (detached).

    Args:
        policy_chosen_logps: ``(N,)`` :math:`\log\pi_\theta(y_w|x)` (:func:`sequence_log_probs`).
        policy_rejected_logps: ``(N,)`` :math:`\log\pi_\theta(y_l|x)`.
        ref_chosen_logps: ``(N,)`` :math:`\log\pi_\text{ref}(y_w|x)`.
        ref_rejected_logps: ``(N,)`` :math:`\log\pi_\text{ref}(y_l|x)`.
        beta: :math:`\beta > 0`, the strength of the implicit KL constraint (0.1 to 0.5).

    Returns:
        A scalar tensor; ln 2 when the policy is the reference.

    Example:
        >>> logps = torch.tensor([-3.0, -5.0])
        >>> dpo_loss(logps, logps - 1, logps, logps - 1, beta=0.1)
        tensor(0.6931)

    """  # noqa: D205
    if not beta > 0:
        raise ValueError(f"beta must be > 0; got {beta}")
    require_same_shape("policy_chosen_logps", policy_chosen_logps,
                policy_rejected_logps=policy_rejected_logps, ref_chosen_logps=ref_chosen_logps,
                ref_rejected_logps=ref_rejected_logps)
    chosen = policy_chosen_logps - ref_chosen_logps.detach()
    rejected = policy_rejected_logps - ref_rejected_logps.detach()
    return bradley_terry_loss(beta * chosen, beta * rejected)


def rebel_loss(
    log_ratio_a: torch.Tensor,
    log_ratio_b: torch.Tensor,
    reward_a: torch.Tensor,
    reward_b: torch.Tensor,
    eta: float,
) -> torch.Tensor:
    r"""REBEL (Gao et al., 2024): regress the relative reward on the relative log-ratio.

    .. math:: \frac1N\sum\Big(\frac1\eta\big(\log\tfrac{\pi_\theta(y_a|x)}{\pi_t(y_a|x)}
        - \log\tfrac{\pi_\theta(y_b|x)}{\pi_t(y_b|x)}\big) - (r(x, y_a) - r(x, y_b))\Big)^2

    for two responses a and b to the same prompt, with :math:`\pi_t` the policy of the last
    iteration. It is 0 when the log-ratio difference is :math:`\eta` times the reward
    difference. The rewards are constants (detached).

    Args:
        log_ratio_a: ``(N,)`` :math:`\log\pi_\theta(y_a|x) - \log\pi_t(y_a|x)`.
        log_ratio_b: ``(N,)`` the same for the second response.
        reward_a: ``(N,)`` :math:`r(x, y_a)`.
        reward_b: ``(N,)`` :math:`r(x, y_b)`.
        eta: The step size :math:`\eta > 0` (the inverse of a KL coefficient).

    Returns:
        A scalar tensor.

    Example:
        >>> rebel_loss(torch.tensor([0.2]), torch.tensor([0.0]), torch.tensor([3.0]),
        ...            torch.tensor([1.0]), eta=0.1)
        tensor(0.)

    """
    if not eta > 0:
        raise ValueError(f"eta must be > 0; got {eta}")
    require_same_shape("log_ratio_a", log_ratio_a, log_ratio_b=log_ratio_b, reward_a=reward_a,
                reward_b=reward_b)
    reward_gap = (reward_a - reward_b).detach()
    return (((log_ratio_a - log_ratio_b) / eta - reward_gap) ** 2).mean()
