# Writes a tiny legacy-format PyTorch state dict without torch: fake
# torch modules make pickle name the same globals torch.save does.
import collections, io, pickle, struct, sys, types

torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
def _rebuild_tensor_v2(*args):
    raise AssertionError
_rebuild_tensor_v2.__module__ = "torch._utils"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2
class FloatStorage: pass
class LongStorage: pass
FloatStorage.__module__ = LongStorage.__module__ = "torch"
torch.FloatStorage, torch.LongStorage, torch._utils = FloatStorage, LongStorage, utils
sys.modules["torch"], sys.modules["torch._utils"] = torch, utils

class Ref:
    def __init__(self, cls, key, numel):
        self.cls, self.key, self.numel = cls, key, numel

class Tensor:
    def __init__(self, ref, offset, size, stride):
        self.args = (ref, offset, size, stride, False, collections.OrderedDict())
    def __reduce__(self):
        return (_rebuild_tensor_v2, self.args)

class P(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Ref):
            return ("storage", obj.cls, obj.key, "cpu", obj.numel, None)
        return None

out = io.BytesIO()
for obj in (0x1950a86a20f9469cfc6c, 1001, dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=4))):
    pickle.dump(obj, out, protocol=2)
a = Ref(FloatStorage, "0", 8)
b = Ref(FloatStorage, "1", 6)
n = Ref(LongStorage, "2", 1)
sd = collections.OrderedDict([("a", Tensor(a, 2, (2, 3), (3, 1))), ("b", Tensor(b, 0, (3, 2), (1, 3))), ("n", Tensor(n, 0, (), ()))])
P(out, protocol=2).dump(sd)
pickle.dump(["0", "1", "2"], out, protocol=2)
out.write(struct.pack("<q", 8) + struct.pack("<8f", *range(8)))
out.write(struct.pack("<q", 6) + struct.pack("<6f", *range(10, 16)))
out.write(struct.pack("<q", 1) + struct.pack("<q", 42))
sys.stdout.buffer.write(out.getvalue())
