"""Convert a GGUF file once into a Hugging Face directory, cached; later loads take seconds.

transformers de-quantises GGUF on every load (~20-40 s here); a saved fp32 safetensors
directory loads in a few seconds. A file lock keeps two processes from converting at
once, and the result appears atomically (written to a temp dir, then renamed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path

from filelock import FileLock

from longagent.errors import ModelLoadError

MARKER = "longagent-converted.json"
log = logging.getLogger(__name__)


def cache_key(gguf: Path) -> str:
    """Name, size and modification time identify a GGUF file without hashing 100 MB."""
    stat = gguf.stat()
    digest = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return f"{gguf.stem}-{digest.hexdigest()[:12]}"


def converted_dir(gguf: Path, cache_dir: Path) -> Path:
    """The HF directory for `gguf`, converting it first when not cached yet."""
    if not gguf.is_file():
        raise ModelLoadError(f"GGUF file not found: {gguf}")
    target = cache_dir / "models" / cache_key(gguf)
    if (target / MARKER).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / MARKER).is_file():  # another process finished while we waited
            return target
        tmp = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
        try:
            log.info("converting %s into %s (once; later loads use the cache)", gguf, target)
            _convert(gguf, tmp)
            (tmp / MARKER).write_text(json.dumps({"source": str(gguf)}))
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
        except Exception as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ModelLoadError(f"Could not convert {gguf}: {exc}") from exc
    return target


def _convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # The weights are de-quantised already; drop the GGUF marker so save and reload
    # treat this as a plain fp32 checkpoint.
    # transformers sets `hf_quantizer` on the instance without declaring it, so mypy only
    # sees nn.Module.__setattr__, which takes tensors and modules.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
