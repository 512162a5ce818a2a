package io.switchboard.channel.telegram;

import io.switchboard.contract.ContractJson;
import org.springframework.http.MediaType;
import org.springframework.http.client.SimpleClientHttpRequestFactory;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * Calls the Bot API (https://core.telegram.org/bots/api#making-requests). The token is part of
 * the URL path by the API's design, so URLs are never logged or put in exceptions.
 */
class TelegramClient {

    private final RestClient http;

    TelegramClient(RestClient.Builder builder) {
        SimpleClientHttpRequestFactory factory = new SimpleClientHttpRequestFactory();
        factory.setConnectTimeout(Duration.ofSeconds(5));
        factory.setReadTimeout(Duration.ofSeconds(60)); // above the longest getUpdates long-poll (50 s)
        this.http = builder.requestFactory(factory).build();
    }

    /** The outcome of one API call. */
    record Result(int httpStatus, boolean ok, JsonNode result, int errorCode, String description, Integer retryAfter) {

        boolean rateLimited() {
            return httpStatus == 429 || errorCode == 429;
        }

        /** Worth another try: rate limits, server errors, network failures (status 0). */
        boolean transientFailure() {
            return !ok && (rateLimited() || httpStatus >= 500 || httpStatus == 0);
        }
    }

    Result call(TelegramProperties.Account account, String method, Map<String, Object> params) {
        String url = account.baseUrl().toString().replaceAll("/+$", "") + "/bot" + account.botToken() + "/" + method;
        try {
            return http.post().uri(url).contentType(MediaType.APPLICATION_JSON).body(ContractJson.toBytes(params))
                    .exchange((request, response) -> parse(response.getStatusCode().value(), response.getBody().readAllBytes()));
        } catch (RuntimeException e) {
            // The cause may name the URL (and so the token): only its type travels on.
            return new Result(0, false, null, 0, "network error calling Telegram: " + rootType(e), null);
        }
    }

    /** One file of a multipart Bot API call (sendPhoto, sendDocument). */
    record Upload(String field, String fileName, String contentType, byte[] bytes) {
    }

    /**
     * Calls a method with multipart/form-data, the only way to upload a file
     * (https://core.telegram.org/bots/api#sending-files). Object parameters (reply_parameters)
     * are sent as JSON strings, as the API expects in form fields.
     */
    Result upload(TelegramProperties.Account account, String method, Map<String, Object> params, Upload file) {
        String url = account.baseUrl().toString().replaceAll("/+$", "") + "/bot" + account.botToken() + "/" + method;
        String boundary = "switchboard-" + java.util.UUID.randomUUID();
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream(file.bytes().length + 1024);
        params.forEach((name, value) -> {
            String text = value instanceof String s ? s : value instanceof Number || value instanceof Boolean
                    ? String.valueOf(value) : new String(ContractJson.toBytes(value), StandardCharsets.UTF_8);
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n"
                    + "Content-Type: text/plain; charset=UTF-8\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            body.writeBytes(text.getBytes(StandardCharsets.UTF_8));
            body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        });
        // the file name as UTF-8 inside the quotes, as browsers send it; quotes and line breaks cannot break out
        String fileName = file.fileName().replaceAll("[\\p{Cntrl}\"\\\\]", "_");
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + file.field() + "\"; filename=\""
                + fileName + "\"\r\nContent-Type: " + file.contentType() + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(file.bytes());
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        try {
            return http.post().uri(url).contentType(MediaType.parseMediaType("multipart/form-data; boundary=" + boundary))
                    .body(body.toByteArray())
                    .exchange((request, response) -> parse(response.getStatusCode().value(), response.getBody().readAllBytes()));
        } catch (RuntimeException e) {
            return new Result(0, false, null, 0, "network error calling Telegram: " + rootType(e), null);
        }
    }

    /**
     * A reply's file, downloaded from the link in the command (inbox-api's signed link). The link
     * carries its signature, so it is never logged or put in a reason either.
     *
     * @param bytes null when the download failed
     * @param contentType what the server said, when it said anything
     * @param transientFailure worth another try (5xx, network)
     * @param reason for agents, when it failed
     */
    record Fetched(byte[] bytes, String contentType, boolean transientFailure, String reason) {
    }

    Fetched fetch(String name, String url, long limit) {
        java.net.URI uri;
        try {
            uri = url == null ? null : java.net.URI.create(url);
        } catch (IllegalArgumentException e) {
            uri = null;
        }
        if (uri == null || uri.getScheme() == null || !uri.getScheme().toLowerCase(java.util.Locale.ROOT).matches("https?")) {
            return new Fetched(null, null, false, "attachment " + name + " has no http(s) URL to fetch it from");
        }
        try {
            return http.get().uri(uri).exchange((request, response) -> {
                int status = response.getStatusCode().value();
                if (status >= 300) {
                    return new Fetched(null, null, status >= 500 || status == 429,
                            "attachment " + name + " could not be fetched: HTTP " + status);
                }
                long announced = response.getHeaders().getContentLength();
                if (announced > limit) {
                    return new Fetched(null, null, false, "attachment " + name + " is larger than " + limit / (1024 * 1024) + " MB");
                }
                byte[] bytes = response.getBody().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
                if (bytes.length > limit) {
                    return new Fetched(null, null, false, "attachment " + name + " is larger than " + limit / (1024 * 1024) + " MB");
                }
                MediaType type = response.getHeaders().getContentType();
                return new Fetched(bytes, type == null ? null : type.toString(), false, null);
            });
        } catch (RuntimeException e) {
            return new Fetched(null, null, true, "attachment " + name + " could not be fetched: " + rootType(e));
        }
    }

    /**
     * Downloads a file from the Bot API's file endpoint ({base}/file/bot{token}/{file_path}, see
     * https://core.telegram.org/bots/api#getfile). The URL holds the token: it is never logged nor
     * put in the reason.
     *
     * @return the bytes, or why not: {@code transientFailure} for 5xx, 429 and network errors (worth
     *         another try), permanent for other statuses and for a file larger than {@code limit}
     */
    Fetched download(TelegramProperties.Account account, String filePath, long limit) {
        java.net.URI uri;
        try {
            uri = java.net.URI.create(account.baseUrl().toString().replaceAll("/+$", "") + "/file/bot" + account.botToken() + "/" + filePath);
        } catch (IllegalArgumentException e) {
            // the message would quote the URL, token included
            return new Fetched(null, null, false, "Telegram gave a file_path that is not a valid URL path");
        }
        try {
            return http.get().uri(uri).exchange((request, response) -> {
                int status = response.getStatusCode().value();
                if (status >= 300) {
                    return new Fetched(null, null, status >= 500 || status == 429, "file download answered HTTP " + status);
                }
                long announced = response.getHeaders().getContentLength();
                if (announced > limit) {
                    return new Fetched(null, null, false, "file of " + announced + " bytes is larger than " + limit + " bytes");
                }
                byte[] bytes = response.getBody().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
                if (bytes.length > limit) {
                    return new Fetched(null, null, false, "file is larger than " + limit + " bytes");
                }
                MediaType type = response.getHeaders().getContentType();
                return new Fetched(bytes, type == null ? null : type.toString(), false, null);
            });
        } catch (RuntimeException e) {
            return new Fetched(null, null, true, "network error downloading a Telegram file: " + rootType(e));
        }
    }

    private static Result parse(int status, byte[] body) {
        try {
            JsonNode json = ContractJson.mapper().readTree(new String(body, StandardCharsets.UTF_8));
            boolean ok = json.path("ok").asBoolean(false);
            Integer retryAfter = json.path("parameters").path("retry_after").canConvertToInt()
                    ? Integer.valueOf(json.path("parameters").path("retry_after").asInt()) : retryAfterFromText(json.path("description").asString(""));
            return new Result(status, ok && status < 300, json.path("result"), json.path("error_code").asInt(status),
                    json.path("description").asString(null), retryAfter);
        } catch (RuntimeException e) {
            return new Result(status, false, null, status, "Telegram answered HTTP " + status + " without a JSON body", null);
        }
    }

    /** Old 429 bodies say "Too Many Requests: retry after 5" without parameters. */
    static Integer retryAfterFromText(String description) {
        var m = java.util.regex.Pattern.compile("retry after (\\d+)", java.util.regex.Pattern.CASE_INSENSITIVE).matcher(description);
        return m.find() ? Integer.valueOf(m.group(1)) : null;
    }

    private static String rootType(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName();
    }
}
