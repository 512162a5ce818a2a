package io.switchboard.router.email;

import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.store.Attachment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The charsets and encodings issue 4 names, in every combination: bodies in UTF-8, KOI8-R, windows-1251 and
 * ISO-8859-5, each as base64, quoted-printable and 8bit, plain and HTML; RFC 2047 subjects and display names
 * (B and Q) and RFC 2231 file names (with language, and split into continuations) in each charset.
 *
 * <p>The fixtures cover only some of these (UTF-8 base64 and quoted-printable, windows-1251 8bit, a KOI8-R
 * RFC 2047 file name, a windows-1251 display name), so the messages here are built byte by byte in the test:
 * the encoders below are written out rather than taken from Jakarta Mail, so that the parser is not checked
 * against its own writer.
 */
class EmailCharsetTest {

    static final List<String> CHARSETS = List.of("UTF-8", "KOI8-R", "windows-1251", "ISO-8859-5");
    /** Every Cyrillic letter of the alphabet, ё and Ё, punctuation and a line break. */
    static final String TEXT = "Съешь же ещё этих мягких французских булок, да выпей чаю!\nЁЖИК в тумане: №5 «готово».";
    static final String TEXT_8859_5 = TEXT.replace("№", "No").replace("«", "\"").replace("»", "\"");

    private final EmailNormalizer normalizer = new EmailNormalizer();

    static Stream<Arguments> bodies() {
        List<Arguments> out = new ArrayList<>();
        for (String charset : CHARSETS) {
            for (String cte : List.of("base64", "quoted-printable", "8bit")) {
                for (String type : List.of("text/plain", "text/html")) {
                    out.add(Arguments.of(charset, cte, type));
                }
            }
        }
        return out.stream();
    }

    /** ISO-8859-5 has no №, « or »: the text is what that charset can carry. */
    static String textFor(String charset) {
        return Charset.forName(charset).newEncoder().canEncode(TEXT) ? TEXT : TEXT_8859_5;
    }

    @ParameterizedTest(name = "{2} in {0} as {1}")
    @MethodSource("bodies")
    void bodyIsReadInItsCharsetAndTransferEncoding(String charset, String cte, String type) throws Exception {
        String text = textFor(charset);
        String content = type.equals("text/html")
                ? "<html><body><p>" + text.replace("\n", "<br>").replace("«", "&laquo;").replace("»", "&raquo;") + "</p></body></html>"
                : text;
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        raw.writeBytes(("From: Ivan <ivan@example.ru>\r\nTo: support@example.org\r\nSubject: charset test\r\n"
                + "Message-ID: <body-" + charset + "-" + cte + "-" + type.substring(5) + "@example.ru>\r\n"
                + "Date: Mon, 2 Feb 2026 10:00:00 +0300\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: " + type + "; charset=" + charset + "\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        raw.writeBytes(encodeBody(content, charset, cte));

        CustomerMessage m = message(raw.toByteArray());
        assertThat(m.text()).isEqualTo(text);
        assertThat(m.sender().value()).isEqualTo("ivan@example.ru");
        assertThat(m.senderName()).isEqualTo("Ivan");
        assertThat(m.subject()).isEqualTo("charset test");
        assertThat(m.attachments()).isEmpty();
    }

    @ParameterizedTest(name = "headers and file names in {0}")
    @ValueSource(strings = {"UTF-8", "KOI8-R", "windows-1251", "ISO-8859-5"})
    void encodedSubjectDisplayNameAndFileNamesAreDecoded(String charset) throws Exception {
        String subject = "Счёт на оплату: ошибка в сумме";
        String name = "Пётр Щукин";
        String file = "Акт сверки ёлки.pdf";
        String other = "Договор поставки №5 (копия).docx";
        if (!Charset.forName(charset).newEncoder().canEncode(other)) {
            other = other.replace("№", "No"); // KOI8-R and ISO-8859-5 have no numero sign
        }
        String raw = "From: " + wordQ(name, charset) + " <petr@example.ru>\r\n"
                + "To: support@example.org\r\n"
                + "Subject: " + wordB(subject.substring(0, 12), charset) + "\r\n " + wordB(subject.substring(12), charset) + "\r\n"
                + "Message-ID: <names-" + charset + "@example.ru>\r\nDate: Mon, 2 Feb 2026 10:00:00 +0300\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                + "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Base64.getMimeEncoder().encodeToString("Документы во вложении.".getBytes(StandardCharsets.UTF_8)) + "\r\n"
                // RFC 2231 with a language tag
                + "--b1\r\nContent-Type: application/pdf\r\n"
                + "Content-Disposition: attachment; filename*=" + charset + "'ru'" + percent(file, charset) + "\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
                // RFC 2231 continuations (section 3), the name on Content-Type as well as on Content-Disposition
                + "--b1\r\nContent-Type: application/octet-stream;\r\n name*0*=" + charset + "''" + percent(other.substring(0, 10), charset)
                + ";\r\n name*1*=" + percent(other.substring(10), charset) + "\r\n"
                + "Content-Disposition: attachment;\r\n filename*0*=" + charset + "''" + percent(other.substring(0, 10), charset)
                + ";\r\n filename*1*=" + percent(other.substring(10), charset) + "\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\nUEsDBAo=\r\n"
                // RFC 2047 in a quoted parameter: not allowed by the RFC, sent by Outlook and Thunderbird all the same
                + "--b1\r\nContent-Type: text/csv; name=\"" + wordB("Список.csv", charset) + "\"\r\n"
                + "Content-Disposition: attachment; filename=\"" + wordB("Список.csv", charset) + "\"\r\n\r\na;b\r\n"
                + "--b1--\r\n";

        CustomerMessage m = message(raw.getBytes(StandardCharsets.US_ASCII));
        assertThat(m.subject()).isEqualTo(subject);
        assertThat(m.senderName()).isEqualTo(name);
        assertThat(m.sender().value()).isEqualTo("petr@example.ru");
        assertThat(m.text()).isEqualTo("Документы во вложении.");
        assertThat(m.attachments()).extracting(Attachment::name).containsExactly(file, other, "Список.csv");
    }

    private CustomerMessage message(byte[] raw) throws Exception {
        List<DomainChange> changes = normalizer.normalize(EmailFixtures.envelope(raw));
        assertThat(changes).singleElement().isInstanceOf(CustomerMessage.class);
        return (CustomerMessage) changes.get(0);
    }

    // ---------------------------------------------------------------- encoders written out (RFC 2045, 2047, 2231)

    static byte[] encodeBody(String content, String charset, String cte) {
        byte[] bytes = content.replace("\n", "\r\n").getBytes(Charset.forName(charset));
        return switch (cte) {
            case "base64" -> (Base64.getMimeEncoder().encodeToString(bytes) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            case "quoted-printable" -> quotedPrintable(bytes);
            default -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.writeBytes(bytes);
                out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
                yield out.toByteArray();
            }
        };
    }

    /** RFC 2045 section 6.7: CRLF kept as line breaks, other octets outside printable ASCII as =XX, soft breaks under 76. */
    static byte[] quotedPrintable(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        int line = 0;
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            if (b == '\r' && i + 1 < bytes.length && bytes[i + 1] == '\n') {
                out.append("\r\n");
                i++;
                line = 0;
                continue;
            }
            String token = (b >= 33 && b <= 126 && b != '=') || b == ' ' ? String.valueOf((char) b) : String.format("=%02X", b);
            if (line + token.length() > 72) {
                out.append("=\r\n");
                line = 0;
            }
            out.append(token);
            line += token.length();
        }
        return (out + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    static String wordB(String text, String charset) {
        return "=?" + charset + "?B?" + Base64.getEncoder().encodeToString(text.getBytes(Charset.forName(charset))) + "?=";
    }

    static String wordQ(String text, String charset) {
        StringBuilder q = new StringBuilder();
        for (byte x : text.getBytes(Charset.forName(charset))) {
            int b = x & 0xff;
            q.append(b == ' ' ? "_" : (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
                    ? String.valueOf((char) b) : String.format("=%02X", b));
        }
        return "=?" + charset + "?Q?" + q + "?=";
    }

    static String percent(String text, String charset) {
        StringBuilder p = new StringBuilder();
        for (byte x : text.getBytes(Charset.forName(charset))) {
            int b = x & 0xff;
            p.append((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '.' || b == '-' || b == '_'
                    ? String.valueOf((char) b) : String.format("%%%02X", b));
        }
        return p.toString();
    }
}
