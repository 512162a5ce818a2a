package io.switchboard.router.email;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lenient header text decoding: RFC 2047 encoded-words (https://www.rfc-editor.org/rfc/rfc2047)
 * wherever they appear, also glued to plain text or inside quotes, as real mailers write them
 * ({@code "=?utf-8?Q?Contract_?=25 04 2020.docx"}), and raw 8-bit UTF-8 that a parser read as
 * ISO-8859-1. Jakarta Mail's own decoder is strict unless a JVM-wide system property is set,
 * which a library must not do.
 */
final class EncodedWords {

    private static final Pattern WORD = Pattern.compile("=\\?([^?\\s]+)\\?([BbQq])\\?([^?]*)\\?=");
    private static final Pattern BETWEEN_WORDS = Pattern.compile("(\\?=)[ \\t\\r\\n]+(=\\?)");

    static String decode(String value) {
        if (value == null) {
            return null;
        }
        String s = value.replaceAll("\\r?\\n[ \\t]*", " ");
        s = recover8bit(s);
        if (!s.contains("=?")) {
            return s;
        }
        // Whitespace between two adjacent encoded-words is not part of the text (RFC 2047 section 6.2).
        s = BETWEEN_WORDS.matcher(s).replaceAll("$1$2");
        Matcher m = WORD.matcher(s);
        StringBuilder out = new StringBuilder();
        int last = 0;
        while (m.find()) {
            out.append(s, last, m.start());
            String decoded = decodeWord(m.group(1), m.group(2), m.group(3));
            out.append(decoded == null ? m.group() : decoded);
            last = m.end();
        }
        out.append(s.substring(last));
        return out.toString();
    }

    private static String decodeWord(String charsetName, String encoding, String text) {
        // RFC 2231 section 5 allows a language suffix: =?utf-8*ru?B?...?=
        int star = charsetName.indexOf('*');
        Charset charset = charset(star > 0 ? charsetName.substring(0, star) : charsetName, null);
        if (charset == null) {
            return null;
        }
        try {
            byte[] bytes;
            if (encoding.equalsIgnoreCase("B")) {
                String b64 = text.replaceAll("[^A-Za-z0-9+/]", "");
                while (b64.length() % 4 != 0) {
                    b64 = b64.length() % 4 == 1 ? b64.substring(0, b64.length() - 1) : b64 + "=";
                }
                bytes = Base64.getDecoder().decode(b64);
            } else {
                bytes = qDecode(text);
            }
            return new String(bytes, charset);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static byte[] qDecode(String text) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '_') {
                out.write(' ');
            } else if (c == '=' && i + 2 < text.length()
                    && Character.digit(text.charAt(i + 1), 16) >= 0 && Character.digit(text.charAt(i + 2), 16) >= 0) {
                out.write(Integer.parseInt(text.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.write((byte) c);
            }
        }
        return out.toByteArray();
    }

    /** A header read byte-for-byte as ISO-8859-1 that really is UTF-8 becomes the UTF-8 text. */
    static String recover8bit(String s) {
        boolean high = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c > 0xFF) {
                return s; // already decoded text
            }
            high |= c >= 0x80;
        }
        if (!high) {
            return s;
        }
        byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
        String utf8 = strictUtf8(bytes);
        return utf8 == null ? s : utf8;
    }

    static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** A Java charset for a MIME charset name, with the aliases mailers use; {@code fallback} if unknown. */
    static Charset charset(String name, Charset fallback) {
        if (name == null || name.isBlank()) {
            return fallback;
        }
        String n = name.trim().replace("\"", "").toLowerCase(Locale.ROOT);
        switch (n) {
            case "cp1251", "win-1251", "windows1251", "x-cp1251" -> n = "windows-1251";
            case "koi8r" -> n = "koi8-r";
            case "utf8" -> n = "utf-8";
            case "iso8859-5", "iso_8859-5" -> n = "iso-8859-5";
            default -> {
            }
        }
        try {
            return Charset.forName(n);
        } catch (RuntimeException e) {
            return fallback;
        }
    }

    private EncodedWords() {
    }
}
