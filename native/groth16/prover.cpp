// A Groth16 prover for BN254 circom/snarkjs keys (docs/prover.md, "Native prover"): reads a snarkjs .zkey and a
// circom .wtns, writes proof.json and public.json exactly as `snarkjs groth16 prove` does (the same proof equation,
// fresh random r and s). Built on the machine that runs it (scripts/engine/prove/native.ts: g++ -O3 -march=native,
// so the compiler uses BMI2/ADX/AVX-512 where this CPU has them), with snarkjs as the fallback.
//
// Where it differs from snarkjs' path (and why it is faster): the QAP evaluation skips zero witness values; the
// witness MSMs add the bases of scalars 1 directly and skip zeros (most of our witnesses are bits), leaving the rest
// to Pippenger with signed windows and batch-affine buckets (see "multi-scalar multiplication"); the FFTs and MSMs
// split across threads.
//
// Usage: groth16-prover <circuit.zkey> <witness.wtns> <proof.json> <public.json> [--threads N] [--timings]
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

typedef unsigned __int128 u128;
typedef uint64_t u64;

// ------------------------------------------------------------------ Montgomery field arithmetic (4 x 64 bits)

template <int ID>
struct Field {
  u64 v[4];
  static const u64 P[4];
  static const u64 R2[4];
  static const u64 ONE[4];  // R mod p
  static const u64 INV;     // -p^-1 mod 2^64

  static Field zero() { Field r; r.v[0] = r.v[1] = r.v[2] = r.v[3] = 0; return r; }
  static Field one() { Field r; memcpy(r.v, ONE, 32); return r; }
  bool isZero() const { return (v[0] | v[1] | v[2] | v[3]) == 0; }
  bool operator==(const Field& o) const { return v[0] == o.v[0] && v[1] == o.v[1] && v[2] == o.v[2] && v[3] == o.v[3]; }
  bool operator!=(const Field& o) const { return !(*this == o); }

  static inline bool geqP(const u64* a) {
    for (int i = 3; i >= 0; i--) {
      if (a[i] > P[i]) return true;
      if (a[i] < P[i]) return false;
    }
    return true;
  }
  static inline void subP(u64* a) {
    u128 borrow = 0;
    for (int i = 0; i < 4; i++) {
      u128 d = (u128)a[i] - P[i] - borrow;
      a[i] = (u64)d;
      borrow = (d >> 64) & 1;
    }
  }
  friend inline Field operator+(const Field& a, const Field& b) {
    Field r;
    u128 c = 0;
    for (int i = 0; i < 4; i++) {
      c += (u128)a.v[i] + b.v[i];
      r.v[i] = (u64)c;
      c >>= 64;
    }
    if (c || geqP(r.v)) subP(r.v);
    return r;
  }
  friend inline Field operator-(const Field& a, const Field& b) {
    Field r;
    u128 borrow = 0;
    for (int i = 0; i < 4; i++) {
      u128 d = (u128)a.v[i] - b.v[i] - borrow;
      r.v[i] = (u64)d;
      borrow = (d >> 64) & 1;
    }
    if (borrow) {
      u128 c = 0;
      for (int i = 0; i < 4; i++) {
        c += (u128)r.v[i] + P[i];
        r.v[i] = (u64)c;
        c >>= 64;
      }
    }
    return r;
  }
  Field neg() const { return isZero() ? *this : zero() - *this; }
  Field dbl() const { return *this + *this; }
  // CIOS Montgomery multiplication: a * b * 2^-256 mod p
  friend inline Field operator*(const Field& a, const Field& b) {
    u64 t[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
      u128 c = 0;
      for (int j = 0; j < 4; j++) {
        c += (u128)a.v[j] * b.v[i] + t[j];
        t[j] = (u64)c;
        c >>= 64;
      }
      c += t[4];
      t[4] = (u64)c;
      t[5] = (u64)(c >> 64);
      u64 m = t[0] * INV;
      c = (u128)m * P[0] + t[0];
      c >>= 64;
      for (int j = 1; j < 4; j++) {
        c += (u128)m * P[j] + t[j];
        t[j - 1] = (u64)c;
        c >>= 64;
      }
      c += t[4];
      t[3] = (u64)c;
      t[4] = t[5] + (u64)(c >> 64);
    }
    Field r;
    memcpy(r.v, t, 32);
    if (t[4] || geqP(r.v)) subP(r.v);
    return r;
  }
  Field sq() const { return *this * *this; }
  static Field fromRaw(const u64* raw) {  // a normal-form value < p to Montgomery form
    Field a, b;
    memcpy(a.v, raw, 32);
    memcpy(b.v, R2, 32);
    return a * b;
  }
  void toRaw(u64* out) const {  // Montgomery form to the normal form
    Field one_;
    one_.v[0] = 1;
    one_.v[1] = one_.v[2] = one_.v[3] = 0;
    Field r = *this * one_;
    memcpy(out, r.v, 32);
  }
  Field pow(const u64* e) const {
    Field r = one();
    for (int i = 3; i >= 0; i--)
      for (int b = 63; b >= 0; b--) {
        r = r.sq();
        if ((e[i] >> b) & 1) r = r * *this;
      }
    return r;
  }
  Field inv() const {
    u64 e[4];
    memcpy(e, P, 32);
    e[0] -= 2;  // p - 2 (p is odd, its low limb > 2)
    return pow(e);
  }
};

// BN254 base field q and scalar field r
template <> const u64 Field<0>::P[4] = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL};
template <> const u64 Field<0>::ONE[4] = {0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL};
template <> const u64 Field<0>::R2[4] = {0xf32cfc5b538afa89ULL, 0xb5e71911d44501fbULL, 0x47ab1eff0a417ff6ULL, 0x06d89f71cab8351fULL};
template <> const u64 Field<0>::INV = 0x87d20782e4866389ULL;
template <> const u64 Field<1>::P[4] = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL};
template <> const u64 Field<1>::ONE[4] = {0xac96341c4ffffffbULL, 0x36fc76959f60cd29ULL, 0x666ea36f7879462eULL, 0x0e0a77c19a07df2fULL};
template <> const u64 Field<1>::R2[4] = {0x1bb8e645ae216da7ULL, 0x53fe3ab1e35c59e3ULL, 0x8c49833d53bb8085ULL, 0x0216d0b17f4e44a5ULL};
template <> const u64 Field<1>::INV = 0xc2e1f593efffffffULL;
typedef Field<0> Fq;
typedef Field<1> Fr;

// Fq2 = Fq[u] / (u^2 + 1)
struct Fq2 {
  Fq a, b;
  static Fq2 zero() { return {Fq::zero(), Fq::zero()}; }
  static Fq2 one() { return {Fq::one(), Fq::zero()}; }
  bool isZero() const { return a.isZero() && b.isZero(); }
  bool operator==(const Fq2& o) const { return a == o.a && b == o.b; }
  bool operator!=(const Fq2& o) const { return !(*this == o); }
  Fq2 neg() const { return {a.neg(), b.neg()}; }
  friend Fq2 operator+(const Fq2& x, const Fq2& y) { return {x.a + y.a, x.b + y.b}; }
  friend Fq2 operator-(const Fq2& x, const Fq2& y) { return {x.a - y.a, x.b - y.b}; }
  friend Fq2 operator*(const Fq2& x, const Fq2& y) {
    Fq t0 = x.a * y.a, t1 = x.b * y.b;
    return {t0 - t1, (x.a + x.b) * (y.a + y.b) - t0 - t1};
  }
  Fq2 sq() const { return *this * *this; }
  Fq2 dbl() const { return *this + *this; }
  Fq2 inv() const {
    Fq d = (a.sq() + b.sq()).inv();
    return {a * d, (b * d).neg()};
  }
};

// ------------------------------------------------------------------ curve points (a = 0), Jacobian coordinates

template <class F>
struct Affine {
  F x, y;
  bool inf() const { return x.isZero() && y.isZero(); }  // snarkjs stores the point at infinity as (0, 0)
};

template <class F>
struct Jac {
  F X, Y, Z;
  static Jac zero() { return {F::one(), F::one(), F::zero()}; }
  bool isZero() const { return Z.isZero(); }

  Jac dbl() const {  // dbl-2009-l
    if (isZero()) return *this;
    F A = X.sq(), B = Y.sq(), C = B.sq();
    F D = ((X + B).sq() - A - C).dbl();
    F E = A.dbl() + A;
    F Fv = E.sq();
    Jac r;
    r.X = Fv - D.dbl();
    F C8 = C.dbl().dbl().dbl();
    r.Y = E * (D - r.X) - C8;
    r.Z = (Y * Z).dbl();
    return r;
  }
  Jac addMixed(const Affine<F>& q) const {  // madd-2007-bl
    if (q.inf()) return *this;
    if (isZero()) return {q.x, q.y, F::one()};
    F Z1Z1 = Z.sq();
    F U2 = q.x * Z1Z1;
    F S2 = q.y * Z * Z1Z1;
    F H = U2 - X;
    F rr = (S2 - Y).dbl();
    if (H.isZero()) {
      if (rr.isZero()) return dbl();
      return zero();
    }
    F HH = H.sq();
    F I = HH.dbl().dbl();
    F J = H * I;
    F V = X * I;
    Jac r;
    r.X = rr.sq() - J - V.dbl();
    r.Y = rr * (V - r.X) - (Y * J).dbl();
    r.Z = (Z + H).sq() - Z1Z1 - HH;
    return r;
  }
  Jac add(const Jac& q) const {  // add-2007-bl
    if (isZero()) return q;
    if (q.isZero()) return *this;
    F Z1Z1 = Z.sq(), Z2Z2 = q.Z.sq();
    F U1 = X * Z2Z2, U2 = q.X * Z1Z1;
    F S1 = Y * q.Z * Z2Z2, S2 = q.Y * Z * Z1Z1;
    F H = U2 - U1;
    F rr = (S2 - S1).dbl();
    if (H.isZero()) {
      if (rr.isZero()) return dbl();
      return zero();
    }
    F I = H.dbl().sq();
    F J = H * I;
    F V = U1 * I;
    Jac r;
    r.X = rr.sq() - J - V.dbl();
    r.Y = rr * (V - r.X) - (S1 * J).dbl();
    r.Z = ((Z + q.Z).sq() - Z1Z1 - Z2Z2) * H;
    return r;
  }
  Affine<F> toAffine() const {
    if (isZero()) return {F::zero(), F::zero()};
    F zi = Z.inv(), zi2 = zi.sq();
    return {X * zi2, Y * zi2 * zi};
  }
  // k * P for a normal-form scalar (4 limbs)
  Jac mul(const u64* k) const {
    Jac r = zero();
    for (int i = 3; i >= 0; i--)
      for (int b = 63; b >= 0; b--) {
        r = r.dbl();
        if ((k[i] >> b) & 1) r = r.add(*this);
      }
    return r;
  }
};

// ------------------------------------------------------------------ multi-scalar multiplication
//
// sum_i s_i * P_i over the affine bases of the zkey, by Pippenger's bucket method with four refinements (issue 32):
//
// 1. Scalar classes. Zero scalars (and bases at infinity) are skipped. A scalar s above (r - 1) / 2 is replaced by
//    r - s on the negated base (s P = (r - s)(-P), negating an affine point is y -> -y): the witnesses' small negative
//    values (r - 5, ...) become small positive ones. Scalars then equal to 1 (most of a bit-decomposition witness) are
//    summed directly; the others go to Pippenger in two groups, those of at most 64 bits (quantized ML values) and
//    the rest, so that the small ones are cut into as few windows as their bits need.
// 2. Signed windows. Each scalar is cut into c-bit digits recoded into [-2^(c-1) + 1, 2^(c-1)] (a digit above 2^(c-1)
//    becomes d - 2^c with a carry into the next window): a digit -d adds -P to bucket d, so a window has 2^(c-1)
//    buckets instead of 2^c, halving the bucket reduction; ceil((bits + 1) / c) windows hold the scalars and the carry.
// 3. Batch-affine buckets. The buckets are affine points; an addition bucket += P costs one division, and the
//    divisions of a batch of independent additions (distinct buckets) share one field inversion (Montgomery's trick:
//    3 multiplications per element, then lambda, lambda^2, y: about 6 multiplications per addition against 11 for a
//    mixed Jacobian addition). Equal x is a doubling (same y) or infinity (opposite y, the bucket empties). A point
//    whose bucket is already in the batch is deferred to the next batch (a few percent with random digits); when the
//    deferred list is full (many equal digits) it goes to that bucket's Jacobian side-sum, the former mixed-addition
//    cost, never worse. The batch holds 2^(c-1) / 8 additions (32 to 2048): on LeNet-5's H MSM, 256 with no
//    deferral made the inversions ~10% of the time and cost 1.28 s against 1.13 s (one thread).
// 4. Thread split and window size from a cost model: the windows are split across threads when there are enough of
//    them to balance, otherwise (few windows: small scalars) the points are; c minimizes the modelled cost.

static int g_threads = 2;

static void parallel(int n, const std::function<void(int)>& f) {
  std::vector<std::thread> ts;
  for (int t = 1; t < n; t++) ts.emplace_back(f, t);
  f(0);
  for (auto& t : ts) t.join();
}

static inline bool isOne(const u64* s) { return s[0] == 1 && (s[1] | s[2] | s[3]) == 0; }
static inline bool isZeroS(const u64* s) { return (s[0] | s[1] | s[2] | s[3]) == 0; }

static int bitLength(const u64* s) {
  for (int i = 3; i >= 0; i--)
    if (s[i]) return 64 * i + 64 - __builtin_clzll(s[i]);
  return 0;
}

// the c bits of s starting at bit `bit` (< 256)
static inline u64 bitsAt(const u64* s, int bit, int c) {
  int limb = bit >> 6, off = bit & 63;
  u64 d = s[limb] >> off;
  if (off + c > 64 && limb < 3) d |= s[limb + 1] << (64 - off);
  return d & (((u64)1 << c) - 1);
}

// the scalars of one Pippenger group: base indices, scalars (normal form, < (r + 1) / 2) and whether the base is negated
struct MsmGroup {
  std::vector<uint32_t> idx;
  std::vector<u64> s;  // 4 limbs each
  std::vector<uint8_t> neg;
  int bits = 0;        // the largest bit length
  void push(uint32_t i, const u64* v, bool n, int b) {
    idx.push_back(i);
    s.insert(s.end(), v, v + 4);
    neg.push_back(n);
    if (b > bits) bits = b;
  }
};

// One window's buckets over a range of points (technique 3). bucket j holds the points of digit +-(j + 1).
template <class F>
struct BucketSet {
  int nb, batch;
  std::vector<Affine<F>> aff;  // the affine part of each bucket
  std::vector<uint8_t> has;    // the affine part is set (not infinity)
  std::vector<uint8_t> busy;   // the bucket is in the pending batch
  std::vector<Jac<F>> jac;     // the side-sums of the points that met a busy bucket too often
  std::vector<uint8_t> hasJac;
  // the batch: bucket, point, denominator, prefix product, kind (0 add, 1 double, 2 infinity)
  int m = 0;
  std::vector<uint32_t> bb;
  std::vector<Affine<F>> bp;
  std::vector<F> den, pre;
  std::vector<uint8_t> kind;
  // the points that met a busy bucket, retried after the batch's flush
  struct Pend {
    uint32_t b;
    Affine<F> p;
  };
  std::vector<Pend> pend, retry;

  BucketSet(int nb_, int batch_)
      : nb(nb_), batch(batch_), aff(nb_), has(nb_), busy(nb_), jac(nb_), hasJac(nb_), bb(batch_), bp(batch_), den(batch_),
        pre(batch_), kind(batch_) {
    pend.reserve(batch_);
    retry.reserve(batch_);
  }
  void clear() {
    std::fill(has.begin(), has.end(), 0);
    std::fill(hasJac.begin(), hasJac.end(), 0);
  }
  // bucket b += p; true when the batch is full
  inline bool push(uint32_t b, const Affine<F>& p, bool mayDefer) {
    if (!has[b]) {
      aff[b] = p;
      has[b] = 1;
    } else if (busy[b]) {
      if (mayDefer && pend.size() < (size_t)batch) pend.push_back({b, p});
      else {  // many equal digits: the mixed Jacobian addition
        jac[b] = hasJac[b] ? jac[b].addMixed(p) : Jac<F>{p.x, p.y, F::one()};
        hasJac[b] = 1;
      }
    } else {
      busy[b] = 1;
      bb[m] = b;
      bp[m] = p;
      return ++m == batch;
    }
    return false;
  }
  inline void add(uint32_t b, const Affine<F>& p) {
    if (push(b, p, true)) {
      flush();
      retryPending(true);
    }
  }
  // one pass over the deferred points, now that no bucket is busy (one pass: a point deferred again waits for the
  // next flush)
  void retryPending(bool mayDefer) {
    retry.swap(pend);
    for (const Pend& q : retry)
      if (push(q.b, q.p, mayDefer)) flush();
    retry.clear();
  }
  // the batch's additions, with one inversion
  void flush() {
    if (m == 0) return;
    F acc = F::one();
    for (int j = 0; j < m; j++) {
      const Affine<F>& a = aff[bb[j]];
      const Affine<F>& p = bp[j];
      if (a.x != p.x) den[j] = p.x - a.x, kind[j] = 0;
      else if (a.y == p.y) den[j] = a.y.dbl(), kind[j] = 1;  // y != 0: BN254's groups have odd order
      else den[j] = F::one(), kind[j] = 2;
      pre[j] = acc;
      acc = acc * den[j];
    }
    F inv = acc.inv();
    for (int j = m - 1; j >= 0; j--) {
      F d = inv * pre[j];  // 1 / den[j]
      inv = inv * den[j];
      uint32_t b = bb[j];
      busy[b] = 0;
      Affine<F>& a = aff[b];
      const Affine<F>& p = bp[j];
      if (kind[j] == 2) {
        has[b] = 0;
        continue;
      }
      F lambda;
      if (kind[j] == 0) lambda = (p.y - a.y) * d;
      else {
        F xx = a.x.sq();
        lambda = (xx.dbl() + xx) * d;
      }
      F x3 = lambda.sq() - a.x - p.x;
      a.y = lambda * (a.x - x3) - a.y;
      a.x = x3;
    }
    m = 0;
  }
  // sum_j (j + 1) * bucket_j, by running sums from the top bucket
  Jac<F> reduce() {
    flush();
    retryPending(false);  // the last deferred points: to the batch, or to the side-sums
    flush();
    Jac<F> running = Jac<F>::zero(), sum = Jac<F>::zero();
    for (int j = nb - 1; j >= 0; j--) {
      if (has[j]) running = running.addMixed(aff[j]);
      if (hasJac[j]) running = running.add(jac[j]);
      if (!running.isZero()) sum = sum.add(running);
    }
    return sum;
  }
};

// the batch size for 2^(c-1) buckets: large enough to spread the inversion (about 380 multiplications), small enough
// that few points meet a busy bucket
static int batchSize(int c) {
  int b = (1 << (c - 1)) / 8;
  return b < 32 ? 32 : b > 2048 ? 2048 : b;
}

// the cost model of technique 4 (in affine additions): a bucket's share of the reduction is about 4 of them, a batch
// inversion about 60
struct MsmPlan {
  int c, windows;
  bool splitPoints;
};
static MsmPlan planMsm(size_t n, int bits, int T) {
  MsmPlan best{2, 0, false};
  double bestCost = 1e300;
  for (int c = 2; c <= 16; c++) {
    int W = (bits + 1 + c - 1) / c;  // bits + 1: the last carry
    double B = (double)((size_t)1 << (c - 1));
    for (int sp = 0; sp < 2; sp++) {
      if (sp == 0 && T > 1 && W < T) continue;
      double perTask = sp ? (double)n / T : (double)n;
      double tasks = sp ? W : (double)((W + T - 1) / T);
      double inv = 60.0 * (perTask / batchSize(c) + 1);
      double cost = tasks * (perTask + 4 * B + inv);
      if (cost < bestCost * 0.999) bestCost = cost, best = {c, W, sp == 1};
    }
  }
  return best;
}

template <class F>
static Jac<F> pippenger(const Affine<F>* bases, const MsmGroup& g) {
  size_t n = g.idx.size();
  if (n == 0) return Jac<F>::zero();
  int T = n < 512 ? 1 : g_threads;
  MsmPlan plan = planMsm(n, g.bits, T);
  int c = plan.c, W = plan.windows;
  u64 half = (u64)1 << (c - 1), full = (u64)1 << c;
  // technique 2: the carries of each scalar's signed recoding, one bit per window (W <= 128)
  std::vector<u64> carries(n * 2, 0);
  for (size_t k = 0; k < n; k++) {
    const u64* s = &g.s[4 * k];
    u64 carry = 0;
    for (int w = 0; w < W; w++) {
      u64 d = bitsAt(s, w * c, c) + carry;
      carry = d > half;
      if (carry) carries[2 * k + ((w + 1) >> 6)] |= (u64)1 << ((w + 1) & 63);
    }
  }
  // tasks: (window, point range); each is one BucketSet pass
  struct Task {
    int w;
    size_t lo, hi;
  };
  std::vector<Task> tasks;
  int parts = plan.splitPoints ? T : 1;
  for (int w = 0; w < W; w++)
    for (int p = 0; p < parts; p++) tasks.push_back({w, n * p / parts, n * (p + 1) / parts});
  std::vector<Jac<F>> taskSum(tasks.size(), Jac<F>::zero());
  parallel(T, [&](int t) {
    BucketSet<F> bs((int)half, batchSize(c));
    // window split: thread t takes windows t, t + T, ...; point split: thread t its own range of every window
    for (size_t q = t; q < tasks.size(); q += T) {
      const Task& tk = tasks[q];
      bs.clear();
      int w = tk.w;
      for (size_t k = tk.lo; k < tk.hi; k++) {
        u64 d = bitsAt(&g.s[4 * k], w * c, c) + ((carries[2 * k + (w >> 6)] >> (w & 63)) & 1);
        if (d == 0 || d == full) continue;
        bool neg = g.neg[k];
        if (d > half) d = full - d, neg = !neg;
        Affine<F> p = bases[g.idx[k]];
        if (neg) p.y = p.y.neg();
        bs.add((uint32_t)(d - 1), p);
      }
      taskSum[q] = bs.reduce();
    }
  });
  std::vector<Jac<F>> wsum(W, Jac<F>::zero());
  for (size_t q = 0; q < tasks.size(); q++) wsum[tasks[q].w] = wsum[tasks[q].w].add(taskSum[q]);
  Jac<F> result = Jac<F>::zero();
  for (int w = W - 1; w >= 0; w--) {
    for (int i = 0; i < c; i++) result = result.dbl();
    result = result.add(wsum[w]);
  }
  return result;
}

// sum_i scalars[i] * bases[i] (technique 1): zeros skipped, ones added directly (split across threads), the small and
// the large scalars by Pippenger
template <class F>
static Jac<F> msm(const Affine<F>* bases, const u64* scalars, size_t n) {
  static const u64 HALF_R[4] = {0xa1f0fac9f8000000ULL, 0x9419f4243cdcb848ULL, 0xdc2822db40c0ac2eULL, 0x183227397098d014ULL};
  std::vector<uint32_t> ones;
  std::vector<uint8_t> onesNeg;
  MsmGroup small, large;
  for (size_t i = 0; i < n; i++) {
    const u64* s = scalars + 4 * i;
    if (isZeroS(s) || bases[i].inf()) continue;
    u64 v[4];
    bool neg = false;
    bool above = false;  // s > (r - 1) / 2
    for (int l = 3; l >= 0; l--)
      if (s[l] != HALF_R[l]) {
        above = s[l] > HALF_R[l];
        break;
      }
    if (above) {  // v = r - s
      u128 borrow = 0;
      for (int l = 0; l < 4; l++) {
        u128 d = (u128)Fr::P[l] - s[l] - borrow;
        v[l] = (u64)d;
        borrow = (d >> 64) & 1;
      }
      neg = true;
    } else memcpy(v, s, 32);
    if (isOne(v)) {
      ones.push_back((uint32_t)i);
      onesNeg.push_back(neg);
      continue;
    }
    int b = bitLength(v);
    (b <= 64 ? small : large).push((uint32_t)i, v, neg, b);
  }
  int T = ones.size() < 256 ? 1 : g_threads;
  std::vector<Jac<F>> part(T, Jac<F>::zero());
  parallel(T, [&](int t) {
    Jac<F> acc = Jac<F>::zero();
    for (size_t k = t; k < ones.size(); k += T) {
      Affine<F> p = bases[ones[k]];
      if (onesNeg[k]) p.y = p.y.neg();
      acc = acc.addMixed(p);
    }
    part[t] = acc;
  });
  Jac<F> r = pippenger(bases, small).add(pippenger(bases, large));
  for (auto& p : part) r = r.add(p);
  return r;
}

// ------------------------------------------------------------------ FFT over Fr (natural order in and out)

static Fr frRoot(int k) {  // a primitive 2^k-th root of unity: 5^((r-1)/2^28) squared 28 - k times (ffjavascript's)
  static const u64 W28[4] = {0x9bd61b6e725b19f0ULL, 0x402d111e41112ed4ULL, 0x00e0a7eb8ef62abcULL, 0x2a3c09f0a58a7e85ULL};
  Fr w = Fr::fromRaw(W28);
  for (int i = 28; i > k; i--) w = w.sq();
  return w;
}

static void fft(std::vector<Fr>& a, int power, bool inverse) {
  size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; i++) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  if (n < 2) return;
  // every stage's twiddles are strided powers of one root: W[j] = w_n^j for j < n / 2, computed once in chunks
  Fr wn = frRoot(power);
  if (inverse) wn = wn.inv();
  size_t halfN = n >> 1;
  std::vector<Fr> W(halfN);
  int T = g_threads;
  parallel(T, [&](int t) {
    size_t from = halfN * t / T, to = halfN * (t + 1) / T;
    if (from >= to) return;
    u64 e[4] = {from, 0, 0, 0};
    Fr x = wn.pow(e);
    for (size_t j = from; j < to; j++) {
      W[j] = x;
      x = x * wn;
    }
  });
  for (int s = 1; s <= power; s++) {
    size_t m = (size_t)1 << s, half = m >> 1, stride = n / m;
    // the n / 2 butterflies of the stage, split evenly across threads whatever the group size
    parallel(T, [&](int t) {
      size_t from = halfN * t / T, to = halfN * (t + 1) / T;
      for (size_t b = from; b < to; b++) {
        size_t g = b / half, j = b % half;
        size_t k = g * m + j;
        Fr u = a[k], v = a[k + half] * W[j * stride];
        a[k] = u + v;
        a[k + half] = u - v;
      }
    });
  }
  if (inverse) {
    u64 nr[4] = {n, 0, 0, 0};
    Fr ninv = Fr::fromRaw(nr).inv();
    parallel(T, [&](int t) {
      for (size_t i = n * t / T; i < n * (t + 1) / T; i++) a[i] = a[i] * ninv;
    });
  }
}

// ------------------------------------------------------------------ file formats

struct BinFile {
  std::vector<uint8_t> data;
  struct Sec {
    size_t off, size;
  };
  std::vector<std::vector<Sec>> sections;
  void load(const char* path, const char* magic) {
    FILE* f = fopen(path, "rb");
    if (!f) throw std::runtime_error(std::string("cannot open ") + path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    data.resize(size > 0 ? (size_t)size : 0);
    size_t got = data.empty() ? 0 : fread(data.data(), 1, data.size(), f);
    fclose(f);
    if (got != data.size()) throw std::runtime_error(std::string("cannot read ") + path);
    if (data.size() < 12 || memcmp(data.data(), magic, 4) != 0) throw std::runtime_error(std::string(path) + ": not a " + magic + " file");
    uint32_t nSec;
    memcpy(&nSec, data.data() + 8, 4);
    size_t p = 12;
    sections.assign(32, {});
    for (uint32_t i = 0; i < nSec; i++) {
      uint32_t type;
      uint64_t size;
      memcpy(&type, data.data() + p, 4);
      memcpy(&size, data.data() + p + 4, 8);
      p += 12;
      if (type < 32) sections[type].push_back({p, (size_t)size});
      p += size;
    }
  }
  const uint8_t* sec(int t, size_t* size = nullptr) const {
    if (t >= (int)sections.size() || sections[t].size() != 1) throw std::runtime_error("missing or repeated section " + std::to_string(t));
    if (size) *size = sections[t][0].size;
    return data.data() + sections[t][0].off;
  }
};

static u64 rd32(const uint8_t* p) { uint32_t v; memcpy(&v, p, 4); return v; }

static std::string toDecimal(const u64* v) {
  u64 x[4];
  memcpy(x, v, 32);
  std::string s;
  while (x[0] | x[1] | x[2] | x[3]) {
    u128 rem = 0;
    for (int i = 3; i >= 0; i--) {
      u128 cur = (rem << 64) | x[i];
      x[i] = (u64)(cur / 10);
      rem = cur % 10;
    }
    s.push_back((char)('0' + (int)rem));
  }
  if (s.empty()) s = "0";
  return std::string(s.rbegin(), s.rend());
}

static std::string dec(const Fq& f) {
  u64 r[4];
  f.toRaw(r);
  return toDecimal(r);
}

static void randomFr(u64* out) {  // uniform in [1, r) from /dev/urandom
  std::ifstream f("/dev/urandom", std::ios::binary);
  for (;;) {
    f.read((char*)out, 32);
    if (!f) throw std::runtime_error("cannot read /dev/urandom");
    out[3] &= 0x3fffffffffffffffULL;
    if (!isZeroS(out) && !Fr::geqP(out)) return;
  }
}

static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

int main(int argc, char** argv) {
  try {
    std::vector<std::string> pos;
    bool timings = false;
    for (int i = 1; i < argc; i++) {
      std::string a = argv[i];
      if (a == "--threads" && i + 1 < argc) g_threads = atoi(argv[++i]);
      else if (a == "--timings") timings = true;
      else pos.push_back(a);
    }
    if (pos.size() != 4 || g_threads < 1) {
      fprintf(stderr, "usage: groth16-prover <circuit.zkey> <witness.wtns> <proof.json> <public.json> [--threads N] [--timings]\n");
      return 2;
    }
    double t0 = now();
    BinFile zk, wt;
    zk.load(pos[0].c_str(), "zkey");
    wt.load(pos[1].c_str(), "wtns");
    if (rd32(zk.sec(1)) != 1) throw std::runtime_error("the zkey is not a Groth16 key");
    const uint8_t* h = zk.sec(2);
    if (rd32(h) != 32 || memcmp(h + 4, Fq::P, 32) != 0 || rd32(h + 36) != 32 || memcmp(h + 40, Fr::P, 32) != 0)
      throw std::runtime_error("the zkey is not on BN254");
    uint32_t nVars = rd32(h + 72), nPublic = rd32(h + 76), domainSize = rd32(h + 80);
    int power = 0;
    while (((size_t)1 << power) < domainSize) power++;
    const uint8_t* pt = h + 84;
    auto g1 = [](const uint8_t* p) { Affine<Fq> a; memcpy(a.x.v, p, 32); memcpy(a.y.v, p + 32, 32); return a; };
    auto g2 = [](const uint8_t* p) {
      Affine<Fq2> a;
      memcpy(a.x.a.v, p, 32);
      memcpy(a.x.b.v, p + 32, 32);
      memcpy(a.y.a.v, p + 64, 32);
      memcpy(a.y.b.v, p + 96, 32);
      return a;
    };
    Affine<Fq> alpha1 = g1(pt), beta1 = g1(pt + 64), delta1 = g1(pt + 64 + 64 + 128 + 128);
    Affine<Fq2> beta2 = g2(pt + 128), delta2 = g2(pt + 64 + 64 + 128 + 128 + 64);

    const uint8_t* wh = wt.sec(1);
    if (rd32(wh) != 32 || memcmp(wh + 4, Fr::P, 32) != 0) throw std::runtime_error("the witness is not over BN254's scalar field");
    if (rd32(wh + 36) != nVars) throw std::runtime_error("the witness has " + std::to_string(rd32(wh + 36)) + " values, the circuit " + std::to_string(nVars));
    // aligned copies: the sections start at arbitrary offsets of the files
    size_t wsz;
    const uint8_t* wraw = wt.sec(2, &wsz);
    std::vector<u64> wv64(wsz / 8);
    memcpy(wv64.data(), wraw, wsz);
    const u64* w = wv64.data();

    // QAP: A and B at the domain's points from the coefficients, skipping zero witness values; C = A * B
    double t1 = now();
    size_t coefSize;
    const uint8_t* co = zk.sec(4, &coefSize);
    uint32_t nCoef = rd32(co);
    std::vector<Fr> A(domainSize, Fr::zero()), B(domainSize, Fr::zero());
    const size_t sCoef = 12 + 32;
    for (uint32_t i = 0; i < nCoef; i++) {
      const uint8_t* e = co + 4 + (size_t)i * sCoef;
      uint32_t m = rd32(e), c = rd32(e + 4), s = rd32(e + 8);
      const u64* ws = w + 4 * (size_t)s;
      if (isZeroS(ws)) continue;
      Fr coef, wv;
      memcpy(coef.v, e + 12, 32);
      memcpy(wv.v, ws, 32);
      // the stored coefficient is c * R^2: its Montgomery product with the normal-form witness is (c w) in Montgomery form
      Fr term = coef * wv;
      if (m == 0) A[c] = A[c] + term;
      else B[c] = B[c] + term;
    }
    std::vector<Fr> C(domainSize);
    for (size_t i = 0; i < domainSize; i++) C[i] = A[i] * B[i];

    // to the odd coset: ifft, multiply coefficient i by w_{2n}^i, fft; then A * B - C there, out of Montgomery form
    double t2 = now();
    Fr inc = frRoot(power + 1);
    auto toCoset = [&](std::vector<Fr>& v) {
      fft(v, power, true);
      Fr k = Fr::one();
      for (auto& x : v) {
        x = x * k;
        k = k * inc;
      }
      fft(v, power, false);
    };
    toCoset(A);
    toCoset(B);
    toCoset(C);
    std::vector<u64> hs((size_t)domainSize * 4);
    for (size_t i = 0; i < domainSize; i++) (A[i] * B[i] - C[i]).toRaw(&hs[4 * i]);
    std::vector<Fr>().swap(A);
    std::vector<Fr>().swap(B);
    std::vector<Fr>().swap(C);

    // MSMs
    double t3 = now();
    auto bases1 = [&](int sec, size_t n) {
      size_t sz;
      const uint8_t* p = zk.sec(sec, &sz);
      if (sz != n * sizeof(Affine<Fq>)) throw std::runtime_error("section " + std::to_string(sec) + " has the wrong size");
      std::vector<Affine<Fq>> v(n);
      memcpy(v.data(), p, sz);
      return v;
    };
    size_t b2sz;
    const uint8_t* b2raw = zk.sec(7, &b2sz);
    if (b2sz != (size_t)nVars * sizeof(Affine<Fq2>)) throw std::runtime_error("section 7 has the wrong size");
    std::vector<Affine<Fq2>> basesB2(nVars);
    memcpy(basesB2.data(), b2raw, b2sz);
    Jac<Fq> piA = msm(bases1(5, nVars).data(), w, nVars);
    Jac<Fq> pib1 = msm(bases1(6, nVars).data(), w, nVars);
    Jac<Fq2> piB = msm(basesB2.data(), w, nVars);
    Jac<Fq> piC = msm(bases1(8, nVars - nPublic - 1).data(), w + 4 * (size_t)(nPublic + 1), nVars - nPublic - 1);
    Jac<Fq> resH = msm(bases1(9, domainSize).data(), hs.data(), domainSize);

    // the proof, as snarkjs: r, s random
    double t4 = now();
    u64 r[4], s[4];
    randomFr(r);
    randomFr(s);
    Jac<Fq> d1 = Jac<Fq>::zero().addMixed(delta1);
    Jac<Fq2> d2 = Jac<Fq2>::zero().addMixed(delta2);
    piA = piA.addMixed(alpha1).add(d1.mul(r));
    piB = piB.addMixed(beta2).add(d2.mul(s));
    pib1 = pib1.addMixed(beta1).add(d1.mul(s));
    Fr rm = Fr::fromRaw(r), sm = Fr::fromRaw(s);
    u64 rs[4];
    (rm * sm).neg().toRaw(rs);
    piC = piC.add(resH).add(piA.mul(s)).add(pib1.mul(r)).add(d1.mul(rs));

    Affine<Fq> a = piA.toAffine(), c = piC.toAffine();
    Affine<Fq2> b = piB.toAffine();
    FILE* pf = fopen(pos[2].c_str(), "w");
    if (!pf) throw std::runtime_error("cannot write " + pos[2]);
    fprintf(pf,
            "{\n \"pi_a\": [\n  \"%s\",\n  \"%s\",\n  \"1\"\n ],\n \"pi_b\": [\n  [\n   \"%s\",\n   \"%s\"\n  ],\n  [\n   \"%s\",\n   \"%s\"\n  ],\n  [\n   \"1\",\n   \"0\"\n  ]\n ],\n \"pi_c\": [\n  \"%s\",\n  \"%s\",\n  \"1\"\n ],\n \"protocol\": \"groth16\",\n \"curve\": \"bn128\"\n}",
            dec(a.x).c_str(), dec(a.y).c_str(), dec(b.x.a).c_str(), dec(b.x.b).c_str(), dec(b.y.a).c_str(), dec(b.y.b).c_str(), dec(c.x).c_str(),
            dec(c.y).c_str());
    fclose(pf);
    FILE* sf = fopen(pos[3].c_str(), "w");
    if (!sf) throw std::runtime_error("cannot write " + pos[3]);
    fprintf(sf, "[\n");
    for (uint32_t i = 1; i <= nPublic; i++) fprintf(sf, " \"%s\"%s\n", toDecimal(w + 4 * (size_t)i).c_str(), i < nPublic ? "," : "");
    fprintf(sf, "]");
    fclose(sf);
    double t5 = now();
    if (timings)
      fprintf(stderr, "{\"read\": %.4f, \"qap\": %.4f, \"fft\": %.4f, \"msm\": %.4f, \"finish\": %.4f, \"threads\": %d}\n", t1 - t0, t2 - t1, t3 - t2, t4 - t3,
              t5 - t4, g_threads);
    return 0;
  } catch (const std::exception& e) {
    fprintf(stderr, "groth16-prover: %s\n", e.what());
    return 1;
  }
}
