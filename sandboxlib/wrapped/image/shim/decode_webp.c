/* WebP with libwebp, from memory, as Pillow's plugin decodes every WebP file: RGBA
   (RGBX, so RGB to Pillow, when the file has no alpha); an animation's first frame
   composed on its canvas by the animation decoder (libwebpdemux), and its later
   frames one after the other (image_next_frame). A still image is
   decoded straight into one buffer: the animation decoder's frame is the same pixels,
   but it first zeroes two canvases (a quarter of a 1024x768 image's instructions, and
   each page touched). The header is read with WebPGetFeatures alone: the decoders
   allocate when they start, so only once the host has checked the size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

#include "image.h"

static struct {
  const unsigned char* data;
  size_t len;
  WebPAnimDecoder* decoder;
  WebPDemuxer* demuxer; /* image_metadata's, made at its first call */
  unsigned char animation[10];
  uint8_t* still;
  int ready, animated, width, height, frames;
  const char* message;
} s;

/* Frees the previous image's state: one per sandbox, but the native backend's build
   runs every image in the same globals. */
static void reset(void) {
  WebPAnimDecoderDelete(s.decoder);
  WebPDemuxDelete(s.demuxer);
  WebPFree(s.still);
  memset(&s, 0, sizeof s);
}

int image_header(const unsigned char* data, size_t size, int* width, int* height) {
  reset();
  if (size < 12 || memcmp(data, "RIFF", 4) || memcmp(data + 8, "WEBP", 4))
    return 0;
  WebPBitstreamFeatures features;
  if (WebPGetFeatures(data, size, &features) != VP8_STATUS_OK) {
    s.message = "broken WebP header";
    return -1;
  }
  s.data = data;
  s.len = size;
  s.ready = 1;
  s.animated = features.has_animation;
  *width = s.width = features.width;
  *height = s.height = features.height;
  return features.has_alpha ? IMAGE_RGBA : IMAGE_RGBX;
}

static const unsigned char* still_image(void);

const unsigned char* image_pixels(void) {
  if (!s.ready) {
    s.message = "no header read";
    return NULL;
  }
  int timestamp;
  return s.animated ? image_next_frame(&timestamp) : still_image();
}

/* A still image's pixels, of the header's size. */
static const unsigned char* still_image(void) {
  int width, height;
  s.still = WebPDecodeRGBA(s.data, s.len, &width, &height);
  if (!s.still) {
    s.message = "broken WebP file";
    return NULL;
  }
  if (width != s.width || height != s.height) {
    s.message = "the image differs from the header's size";
    return NULL;
  }
  return s.still;
}

/* The animation decoder (made at the first call), its canvas of the header's size. */
static int animation(void) {
  if (s.decoder)
    return 1;
  if (!s.ready) {
    s.message = "no header read";
    return 0;
  }
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) {
    s.message = "libwebp's version does not match its header";
    return 0;
  }
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  WebPData whole = {s.data, s.len};
  s.decoder = WebPAnimDecoderNew(&whole, &options);
  WebPAnimInfo info;
  if (!s.decoder || !WebPAnimDecoderGetInfo(s.decoder, &info)) {
    s.message = "broken WebP file";
    return 0;
  }
  /* the canvas the header gave (the host's size), as the animation decoder reads it */
  if ((int)info.canvas_width != s.width || (int)info.canvas_height != s.height) {
    s.message = "the canvas differs from the header's";
    return 0;
  }
  s.frames = info.frame_count > INT32_MAX ? INT32_MAX : (int)info.frame_count;
  return 1;
}

int image_frames(void) {
  return animation() ? s.frames : 0;
}

const unsigned char* image_next_frame(int* timestamp) {
  if (!animation())
    return NULL;
  uint8_t* frame;
  if (!WebPAnimDecoderGetNext(s.decoder, &frame, timestamp)) {
    s.message = "cannot decode the next frame";
    return NULL;
  }
  return frame;
}

int image_rewind(void) {
  if (!animation())
    return 0;
  WebPAnimDecoderReset(s.decoder);
  return 1;
}

/* The first chunk named `fourcc`, as Pillow's plugin reads it. */
static const unsigned char* chunk(const char* fourcc, int* size) {
  WebPChunkIterator found;
  if (!WebPDemuxGetChunk(s.demuxer, fourcc, 1, &found))
    return NULL;
  const unsigned char* data = found.chunk.bytes;
  size_t length = found.chunk.size;
  WebPDemuxReleaseChunkIterator(&found);
  if (length > INT32_MAX)
    return NULL;
  *size = (int)length;
  return data;
}

const unsigned char* image_metadata(int kind, int* size) {
  if (!s.ready)
    return NULL;
  if (!s.demuxer) {
    WebPData whole = {s.data, s.len};
    if (!(s.demuxer = WebPDemux(&whole)))
      return NULL;
  }
  switch (kind) {
    case IMAGE_ICC:
      return chunk("ICCP", size);
    case IMAGE_EXIF:
      return chunk("EXIF", size);
    case IMAGE_XMP:
      return chunk("XMP ", size);
    case IMAGE_ANIMATION: {
      uint32_t loop = WebPDemuxGetI(s.demuxer, WEBP_FF_LOOP_COUNT);
      uint32_t background = WebPDemuxGetI(s.demuxer, WEBP_FF_BACKGROUND_COLOR);
      s.animation[0] = (unsigned char)(loop >> 8);
      s.animation[1] = (unsigned char)loop;
      WebPIterator first;
      uint32_t duration = 0;
      if (WebPDemuxGetFrame(s.demuxer, 1, &first)) {
        duration = (uint32_t)first.duration;
        WebPDemuxReleaseIterator(&first);
      }
      for (int i = 0; i < 4; i++) {
        s.animation[2 + i] = (unsigned char)(background >> (24 - 8 * i));
        s.animation[6 + i] = (unsigned char)(duration >> (24 - 8 * i));
      }
      *size = sizeof s.animation;
      return s.animation;
    }
    default:
      return NULL;
  }
}

const char* image_message(void) {
  return s.message ? s.message : "";
}
