#include "Image.h"

#include "Error.h"

#include <png.h>

#include <cctype>
#include <fstream>
#include <sstream>

namespace lenetc {

namespace {

GrayImage readPgm(const std::string &path, const std::string &data) {
  std::istringstream in(data);
  std::string magic;
  in >> magic;
  auto number = [&]() {
    // Skip white space and # comments between header fields.
    for (;;) {
      int c = in.peek();
      if (c == '#') {
        std::string line;
        std::getline(in, line);
      } else if (std::isspace(c)) {
        in.get();
      } else {
        break;
      }
    }
    long v = -1;
    in >> v;
    if (!in)
      throw Error("'" + path + "' is not a valid PGM file (bad header)");
    return v;
  };
  long w = number(), h = number(), maxval = number();
  if (w <= 0 || h <= 0 || w > 4096 || h > 4096 || maxval <= 0 || maxval > 255)
    throw Error("'" + path + "': unsupported PGM (" + std::to_string(w) + "x" + std::to_string(h) +
                ", maxval " + std::to_string(maxval) + "; 8-bit gray only)");
  GrayImage img;
  img.width = static_cast<int>(w);
  img.height = static_cast<int>(h);
  img.pixels.resize(static_cast<size_t>(w * h));
  if (magic == "P5") {
    in.get(); // the single white-space character after maxval
    std::string bytes(static_cast<size_t>(w * h), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (in.gcount() != static_cast<std::streamsize>(bytes.size()))
      throw Error("'" + path + "' is truncated");
    for (size_t i = 0; i < bytes.size(); ++i) {
      unsigned char v = static_cast<unsigned char>(bytes[i]);
      if (v > maxval)
        throw Error("'" + path + "' has a pixel value out of range (" + std::to_string(v) + " > maxval " +
                    std::to_string(maxval) + ")");
      img.pixels[i] = v / float(maxval);
    }
  } else {
    for (auto &p : img.pixels) {
      long v = number();
      if (v < 0 || v > maxval)
        throw Error("'" + path + "' has a pixel value out of range (" + std::to_string(v) + ", maxval " +
                    std::to_string(maxval) + ")");
      p = v / float(maxval);
    }
  }
  return img;
}

GrayImage readPng(const std::string &path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str()))
    throw Error("'" + path + "' is not a readable PNG file: " + image.message);
  image.format = PNG_FORMAT_GRAY;
  if (image.width > 4096 || image.height > 4096) {
    png_image_free(&image);
    throw Error("'" + path + "' is too large");
  }
  std::vector<unsigned char> gray(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, gray.data(), 0, nullptr))
    throw Error("'" + path + "' is damaged: " + image.message);
  GrayImage img;
  img.width = static_cast<int>(image.width);
  img.height = static_cast<int>(image.height);
  for (unsigned char v : gray)
    img.pixels.push_back(v / 255.0f);
  return img;
}

} // namespace

GrayImage readImage(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot open image '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  if (data.size() >= 2 && data[0] == 'P' && (data[1] == '5' || data[1] == '2'))
    return readPgm(path, data);
  if (data.size() >= 8 && data.compare(1, 3, "PNG") == 0)
    return readPng(path);
  throw Error("'" + path + "' is neither a PGM (P5/P2) nor a PNG image");
}

} // namespace lenetc
