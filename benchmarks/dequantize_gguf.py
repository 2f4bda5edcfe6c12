"""Write an F32 copy of a quantised GGUF file: the same weights the transformers backend uses.

transformers de-quantises a GGUF file to float32 when it loads it; llama.cpp computes with the
quantised blocks (e.g. Q4_1 weights x Q8 activations). Serving this F32 copy with llama.cpp
removes that difference, so a backend comparison on it isolates everything else (prompt,
tokenisation, decoding). Metadata is copied as is except ``general.file_type`` (0 = all F32).

    python benchmarks/dequantize_gguf.py OUT.gguf            # the embedded SmolLM2 file
    python benchmarks/dequantize_gguf.py OUT.gguf --input model.Q4_1.gguf
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gguf
import numpy as np
from gguf.quants import dequantize


def dequantize_file(src: Path, dst: Path) -> None:
    reader = gguf.GGUFReader(src, "r")
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    writer = gguf.GGUFWriter(dst, arch=arch, endianess=reader.endianess)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # written by GGUFWriter itself
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        value = 0 if field.name == gguf.Keys.General.FILE_TYPE else field.contents()
        writer.add_key_value(field.name, value, vtype, sub_type=sub)
    arrays = []
    for t in reader.tensors:
        # GGUF lists dimensions fastest-first; numpy wants them slowest-first
        data = dequantize(t.data, t.tensor_type).astype(np.float32).reshape(tuple(int(d) for d in reversed(t.shape)))
        arrays.append((t.name, data))
        writer.add_tensor_info(t.name, data.shape, data.dtype, data.nbytes, gguf.GGMLQuantizationType.F32)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for _, data in arrays:
        writer.write_tensor_data(data)
    writer.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("output", type=Path)
    ap.add_argument("--input", type=Path, default=None, help="GGUF file (default: the embedded SmolLM2 file)")
    args = ap.parse_args()
    if args.input is None:
        from faithscope.models.embedded import embedded_gguf_path
        args.input = embedded_gguf_path()
    dequantize_file(args.input, args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size / 2**20:.0f} MiB) from {args.input}")


if __name__ == "__main__":
    main()
