package io.switchboard.contract;

import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * The files of a Telegram message, as both ends of the Telegram file-content event see them:
 * channel-telegram fetches exactly these (getFile) and the router lists exactly these as the
 * message's attachments, under the same ref (the {@code file_id}). Both use this one class, so a
 * fetched file always finds its attachment, with the same name and type.
 *
 * <p>Follows the Bot API's Message object (https://core.telegram.org/bots/api#message) and its file
 * types (PhotoSize, Document, Voice, Audio, Video, VideoNote, Animation, Sticker).
 */
public final class TelegramFiles {

    /**
     * Content type of the event channel-telegram publishes on {@code inbox.inbound.telegram.v1} with a
     * file's bytes; its external ids are {@code file_id}, {@code name}, {@code mime_type}, {@code file_size}.
     */
    public static final String CONTENT_TYPE = "application/vnd.switchboard.file";

    /**
     * One file of a message.
     *
     * @param kind        the Message field it came from: photo, document, voice, audio, video, video_note, animation, sticker
     * @param fileId      Telegram's file_id: what getFile takes, and the attachment's ref in the inbox
     * @param name        the file's name, or a default by kind when Telegram sends none
     * @param contentType its MIME type, or a default by kind when Telegram sends none
     * @param size        file_size when Telegram sent it (optional in every file type)
     */
    public record File(String kind, String fileId, String name, String contentType, Long size) {
    }

    /**
     * The largest of a photo's sizes (https://core.telegram.org/bots/api#photosize): the greatest
     * width × height. Not {@code file_size}, which is optional and, between two encodings, says
     * little about resolution; not "the last one" either, as the order of the array is not
     * documented. Equal areas: the larger file_size, then the later entry.
     *
     * @return the chosen PhotoSize, or null when the array is missing or empty
     */
    public static JsonNode largestPhoto(JsonNode sizes) {
        if (sizes == null || !sizes.isArray()) {
            return null;
        }
        JsonNode best = null;
        for (JsonNode p : sizes) {
            if (!p.hasNonNull("file_id")) {
                continue;
            }
            if (best == null || compare(p, best) >= 0) {
                best = p;
            }
        }
        return best;
    }

    private static int compare(JsonNode a, JsonNode b) {
        int byArea = Long.compare(area(a), area(b));
        return byArea != 0 ? byArea : Long.compare(a.path("file_size").asLong(0), b.path("file_size").asLong(0));
    }

    private static long area(JsonNode p) {
        return p.path("width").asLong(0) * p.path("height").asLong(0);
    }

    /** The files of one Message, in a fixed order; empty for text, location, contact and service messages. */
    public static List<File> of(JsonNode message) {
        List<File> out = new ArrayList<>();
        if (message == null || !message.isObject()) {
            return out;
        }
        JsonNode photo = largestPhoto(message.path("photo"));
        if (photo != null) {
            out.add(file(photo, "photo", "photo.jpg", "image/jpeg"));
        }
        // "animation: ... For backward compatibility, when this field is set, the document field will also be set":
        // the same file twice; the animation is the truer description of it.
        if (!message.has("animation")) {
            add(out, message, "document", "document", "application/octet-stream");
        }
        add(out, message, "voice", "voice.ogg", "audio/ogg");
        add(out, message, "audio", "audio.mp3", "audio/mpeg");
        add(out, message, "video", "video.mp4", "video/mp4");
        add(out, message, "video_note", "video_note.mp4", "video/mp4");
        add(out, message, "animation", "animation.mp4", "video/mp4");
        JsonNode sticker = message.path("sticker");
        if (sticker.hasNonNull("file_id")) {
            // https://core.telegram.org/stickers: static stickers are WebP, animated ones TGS (gzipped Lottie), video ones WebM
            if (sticker.path("is_animated").asBoolean(false)) {
                out.add(file(sticker, "sticker", "sticker.tgs", "application/x-tgsticker"));
            } else if (sticker.path("is_video").asBoolean(false)) {
                out.add(file(sticker, "sticker", "sticker.webm", "video/webm"));
            } else {
                out.add(file(sticker, "sticker", "sticker.webp", "image/webp"));
            }
        }
        return out;
    }

    private static void add(List<File> out, JsonNode message, String kind, String defaultName, String defaultType) {
        JsonNode f = message.path(kind);
        if (f.hasNonNull("file_id")) {
            out.add(file(f, kind, defaultName, defaultType));
        }
    }

    private static File file(JsonNode f, String kind, String defaultName, String defaultType) {
        String name = f.path("file_name").asString(null);
        String type = f.path("mime_type").asString(null);
        Long size = f.path("file_size").canConvertToLong() ? f.path("file_size").asLong() : null;
        return new File(kind, f.path("file_id").asString(),
                name == null || name.isBlank() ? defaultName : name,
                type == null || type.isBlank() ? defaultType : type, size);
    }

    private TelegramFiles() {
    }
}
