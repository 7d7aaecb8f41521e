"""Context extension: RoPE scaling, Self-Extend and LM-Infinite attention, and the planner
that picks a method for a target length (and renders it for vLLM).

Importing this package changes nothing in transformers; `ExtensionPlan.apply` (or
`register_attention()`) registers the `self_extend` and `lm_infinite` attention functions.
"""

# This folder is named `kernels`, like Hugging Face's kernel-hub package. With the repository
# root on sys.path (`python -m pytest`, `python -c` run there), transformers' availability
# probe imports this folder as top-level `kernels` halfway through its own import. Export
# nothing under that name: the probe then sees an unversioned package, treats it as absent,
# and none of our modules (which import transformers) run inside that import.
if __name__ == "longagent.kernels":
    from longagent.kernels.lm_infinite import LMInfiniteConfig, lm_infinite_attention
    from longagent.kernels.planner import (
        ATTENTION_METHODS,
        DEFAULT_METHOD,
        METHODS,
        ROPE_METHODS,
        ExtensionPlan,
        Method,
        parse_length,
        plan_extension,
        register_attention,
    )
    from longagent.kernels.rope import (
        RopeScaling,
        compute_inv_freq,
        dynamic_ntk_inv_freq,
        inv_freq_from_config,
        linear_inv_freq,
        llama3_inv_freq,
        ntk_base,
        ntk_inv_freq,
        yarn_attention_factor,
        yarn_inv_freq,
    )
    from longagent.kernels.self_extend import SelfExtendConfig, self_extend_attention

    __all__ = [
        "ATTENTION_METHODS",
        "DEFAULT_METHOD",
        "METHODS",
        "ROPE_METHODS",
        "ExtensionPlan",
        "LMInfiniteConfig",
        "Method",
        "RopeScaling",
        "SelfExtendConfig",
        "compute_inv_freq",
        "dynamic_ntk_inv_freq",
        "inv_freq_from_config",
        "linear_inv_freq",
        "llama3_inv_freq",
        "lm_infinite_attention",
        "ntk_base",
        "ntk_inv_freq",
        "parse_length",
        "plan_extension",
        "register_attention",
        "self_extend_attention",
        "yarn_attention_factor",
        "yarn_inv_freq",
    ]
