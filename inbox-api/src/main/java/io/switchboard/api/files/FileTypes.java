package io.switchboard.api.files;

import io.switchboard.api.ApiException;
import org.springframework.http.HttpStatus;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The content type an upload is stored with: what its first bytes show where they show something
 * (images, PDF, archives, media), else what the browser said, else the file name's extension.
 * A file claiming to be an image or a PDF that is not is refused, and so are executables.
 */
final class FileTypes {

    /** Types whose content can be recognised by its first bytes: a claim of one of them is checked. */
    static final Set<String> SNIFFABLE = Set.of("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf");

    private static final Map<String, String> BY_EXTENSION = Map.ofEntries(
            Map.entry("txt", "text/plain"), Map.entry("log", "text/plain"), Map.entry("csv", "text/csv"),
            Map.entry("json", "application/json"), Map.entry("xml", "application/xml"), Map.entry("md", "text/markdown"),
            Map.entry("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            Map.entry("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            Map.entry("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            Map.entry("odt", "application/vnd.oasis.opendocument.text"), Map.entry("zip", "application/zip"));

    /** The type the first bytes show, or null when they show nothing known. */
    static String sniff(byte[] b) {
        if (starts(b, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return "image/png";
        }
        if (starts(b, 0, 0xFF, 0xD8, 0xFF)) {
            return "image/jpeg";
        }
        if (ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a")) {
            return "image/gif";
        }
        if (ascii(b, 0, "RIFF") && ascii(b, 8, "WEBP")) {
            return "image/webp";
        }
        if (ascii(b, 0, "%PDF-")) {
            return "application/pdf";
        }
        if (starts(b, 0, 'P', 'K', 3, 4)) {
            return "application/zip";
        }
        if (starts(b, 0, 0x1F, 0x8B)) {
            return "application/gzip";
        }
        if (ascii(b, 4, "ftyp")) {
            return "video/mp4";
        }
        if (ascii(b, 0, "OggS")) {
            return "audio/ogg";
        }
        if (ascii(b, 0, "MZ") || starts(b, 0, 0x7F, 'E', 'L', 'F')) {
            return "application/x-executable";
        }
        return null;
    }

    /**
     * @param declared the type the client sent for the part (may be null or octet-stream)
     * @throws ApiException 415 for executables, 400 for a type claim the content contradicts
     */
    static String decide(String declared, String fileName, byte[] bytes) {
        String sniffed = sniff(bytes);
        if ("application/x-executable".equals(sniffed)) {
            throw new ApiException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "executable files cannot be attached to replies");
        }
        String claimed = normalize(declared);
        if (claimed != null && SNIFFABLE.contains(claimed) && !claimed.equals(sniffed)) {
            throw ApiException.badRequest("the file's content is not the " + claimed + " its type claims");
        }
        if (sniffed != null && !(sniffed.equals("application/zip") && claimed != null)) {
            return sniffed; // the bytes decide; a zip container keeps its declared kind (docx, xlsx, epub...)
        }
        if (claimed != null) {
            return claimed;
        }
        String ext = fileName == null || fileName.lastIndexOf('.') < 0 ? ""
                : fileName.substring(fileName.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        return BY_EXTENSION.getOrDefault(ext, "application/octet-stream");
    }

    private static String normalize(String type) {
        if (type == null || type.isBlank()) {
            return null;
        }
        String t = type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (t.equals("image/jpg") || t.equals("image/pjpeg")) {
            t = "image/jpeg";
        }
        return t.equals("application/octet-stream") || !t.contains("/") ? null : t;
    }

    private static boolean starts(byte[] b, int at, int... prefix) {
        if (b.length < at + prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((b[at + i] & 0xFF) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean ascii(byte[] b, int at, String s) {
        byte[] p = s.getBytes(StandardCharsets.US_ASCII);
        return b.length >= at + p.length && Arrays.equals(b, at, at + p.length, p, 0, p.length);
    }

    private FileTypes() {
    }
}
