package io.switchboard.channel.social.vk;

import io.switchboard.contract.ContractJson;
import org.springframework.http.MediaType;
import org.springframework.http.client.SimpleClientHttpRequestFactory;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * Calls VK API methods (https://dev.vk.com/en/api/api-requests): a form POST to
 * {@code <api-url>/<method>} with {@code access_token} and {@code v} in the body, never in the
 * URL, so no log line or exception can carry the token.
 */
class VkClient {

    private final RestClient http;

    VkClient(RestClient.Builder builder) {
        SimpleClientHttpRequestFactory factory = new SimpleClientHttpRequestFactory();
        factory.setConnectTimeout(Duration.ofSeconds(5));
        factory.setReadTimeout(Duration.ofSeconds(100)); // long poll waits up to 90 s
        this.http = builder.requestFactory(factory).build();
    }

    /**
     * The outcome of one call: {@code response} on success, else VK's {@code error_code} and
     * {@code error_msg} (https://dev.vk.com/en/reference/errors), or an HTTP status / network failure.
     */
    record Result(int httpStatus, JsonNode response, int errorCode, String errorMessage) {

        boolean ok() {
            return response != null && !response.isMissingNode() && !response.isNull();
        }

        /** 6 too many requests per second, 9 flood control, 10 internal server error; 5xx and I/O. */
        boolean transientFailure() {
            return !ok() && (errorCode == 6 || errorCode == 9 || errorCode == 10 || httpStatus >= 500 || httpStatus == 0);
        }
    }

    Result call(VkProperties.Account account, String method, Map<String, String> params) {
        MultiValueMap<String, String> form = new LinkedMultiValueMap<>();
        params.forEach(form::add);
        form.add("access_token", account.accessToken());
        form.add("v", account.version());
        return post(account.baseUrl().toString().replaceAll("/+$", "") + "/" + method, form);
    }

    /** A Bots Long Poll request to the server URL groups.getLongPollServer returned (key and ts in the query). */
    Result get(String url) {
        try {
            return http.get().uri(java.net.URI.create(url))
                    .exchange((request, response) -> parse(response.getStatusCode().value(), response.getBody().readAllBytes(), true));
        } catch (RuntimeException e) {
            return new Result(0, null, 0, "network error calling VK: " + rootType(e));
        }
    }

    /** The bytes of a reply's attachment, or null when they cannot be fetched. */
    byte[] download(String url) {
        try {
            return http.get().uri(java.net.URI.create(url)).exchange((request, response) ->
                    response.getStatusCode().is2xxSuccessful() ? response.getBody().readAllBytes() : null);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** A file POSTed as multipart field {@code file} to an upload URL VK handed out (https://dev.vk.com/en/api/upload/overview). */
    Result upload(String uploadUrl, String fileName, byte[] bytes) {
        MultiValueMap<String, Object> form = new LinkedMultiValueMap<>();
        form.add("file", new org.springframework.core.io.ByteArrayResource(bytes) {
            @Override
            public String getFilename() {
                return fileName;
            }
        });
        try {
            return http.post().uri(java.net.URI.create(uploadUrl)).contentType(MediaType.MULTIPART_FORM_DATA).body(form)
                    .exchange((request, response) -> parse(response.getStatusCode().value(), response.getBody().readAllBytes(), true));
        } catch (RuntimeException e) {
            return new Result(0, null, 0, "network error uploading to VK: " + rootType(e));
        }
    }

    private Result post(String url, MultiValueMap<String, String> form) {
        try {
            return http.post().uri(url).contentType(MediaType.APPLICATION_FORM_URLENCODED).body(form)
                    .exchange((request, response) -> parse(response.getStatusCode().value(), response.getBody().readAllBytes(), false));
        } catch (RuntimeException e) {
            // The cause may carry request details: only its type travels on.
            return new Result(0, null, 0, "network error calling VK: " + rootType(e));
        }
    }

    private static Result parse(int status, byte[] body, boolean whole) {
        try {
            JsonNode json = ContractJson.mapper().readTree(new String(body, StandardCharsets.UTF_8));
            if (json.has("error")) {
                JsonNode error = json.path("error");
                return new Result(status, null, error.path("error_code").asInt(0), error.path("error_msg").asString("VK error"));
            }
            if (status >= 300) {
                return new Result(status, null, 0, "VK answered HTTP " + status);
            }
            return new Result(status, whole ? json : json.path("response"), 0, null);
        } catch (RuntimeException e) {
            return new Result(status, null, 0, "VK answered HTTP " + status + " without a JSON body");
        }
    }

    private static String rootType(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName();
    }
}
