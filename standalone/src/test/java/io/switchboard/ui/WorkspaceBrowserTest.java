package io.switchboard.ui;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The web UI in a real headless Chromium against the whole running product: sign in, see a
 * Telegram message arrive live (no reload), read it escaped, reply and see it sent, add an
 * internal note, see an image preview and a call entry; then the operators' dashboard with drawn
 * charts from the SLA summary, breach rates included. Saves screenshots of both
 * screens (see {@link #screenshot}). Skipped where Debian's chromium and chromium-driver are absent.
 */
class WorkspaceBrowserTest {

    /** An 8x8 red PNG: the web form's screenshot. */
    static final String PNG = "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGN46uGLFTEMLQkAEvNegaK5qlEAAAAASUVORK5CYII=";
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    static RunningProduct product;
    static WebDriver browser;
    static Path profile;

    @BeforeAll
    static void start() throws IOException {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "needs Debian chromium and chromium-driver (apt-get install -y chromium chromium-driver)");
        product = RunningProduct.get();
        product.user("olga", "olga-password-1", "agent");
        // a queue worth looking at: several customers, some waiting past the 1 h first-response target
        webhook(product.telegramMessage(8101, 5101, "Ivan", "Здравствуйте! Потерял телефон с аутентификатором, не могу войти (2FA)",
                Duration.ofMinutes(95)));
        webhook(product.telegramMessage(8102, 5102, "Maria", "Прошу увеличить квоту на vCPU в проекте demo-42", Duration.ofMinutes(45)));
        webhook(product.telegramMessage(8103, 5103, "John", "I don't receive any email from your support, checked spam too",
                Duration.ofMinutes(20)));
        webhook(product.telegramMessage(8104, 5104, "Anna", "Не начислили приветственный бонус после регистрации", Duration.ofMinutes(3)));
        String bonus = "/api/conversations?q=" + java.net.URLEncoder.encode("бонус", "UTF-8");
        for (String q : new String[]{"аутентификатором", "квоту", "email", "бонус"}) {
            String path = "/api/conversations?q=" + java.net.URLEncoder.encode(q, "UTF-8");
            RunningProduct.await(() -> product.admin("GET", path, null).path("items").size() >= 1, Duration.ofSeconds(20));
        }
        String anna = product.admin("GET", bonus, null).path("items").get(0).path("id").asString();
        product.admin("PATCH", "/api/conversations/" + anna, "{\"assignee\":\"olga\"}");

        // a first response given late, by olga's conversation: the SLA summary has breaches by channel and by agent
        webhook(product.telegramMessage(8105, 5105, "Oleg", "Не могу сменить аватар в профиле", Duration.ofMinutes(130)));
        String avatar = "/api/conversations?q=" + java.net.URLEncoder.encode("аватар", "UTF-8");
        RunningProduct.await(() -> product.admin("GET", avatar, null).path("items").size() == 1, Duration.ofSeconds(20));
        String oleg = product.admin("GET", avatar, null).path("items").get(0).path("id").asString();
        product.admin("PATCH", "/api/conversations/" + oleg, "{\"assignee\":\"olga\"}");
        product.admin("POST", "/api/conversations/" + oleg + "/messages", "{\"text\":\"Sorry for the wait, Oleg: fixed.\"}");
        RunningProduct.await(() -> product.admin("GET", "/api/sla/summary?groupBy=assignee", null).path("groups").valueStream()
                .anyMatch(g -> g.path("key").asString("").equals("olga") && g.path("firstResponse").path("breached").asLong() >= 1),
                Duration.ofSeconds(30));

        // a missed phone call and a web form with a screenshot: the timeline shows a call entry and an image preview
        java.net.http.HttpResponse<String> call = product.send("POST", "/webhooks/phone/default/generic",
                "{\"callId\":\"ui-call-1\",\"event\":\"end\",\"direction\":\"inbound\",\"from\":\"+7 (499) 350-97-03\","
                        + "\"to\":\"74957770011\",\"startedAt\":\"" + Instant.now().minusSeconds(300) + "\",\"endedAt\":\""
                        + Instant.now().minusSeconds(270) + "\",\"disposition\":\"no-answer\",\"agent\":\"201\"}",
                "Bearer " + RunningProduct.PHONE_TOKEN);
        assertThat(call.statusCode()).as(call.body()).isEqualTo(202);
        java.net.http.HttpResponse<String> form = product.send("POST", "/contact.json",
                "{\"email\":\"vera@example.org\",\"name\":\"Vera Screenshot\",\"login\":\"vera-77\",\"project\":\"shop-7\","
                        + "\"topic\":\"technical\",\"message\":\"The checkout page shows this error\","
                        + "\"attachments\":[{\"name\":\"error.png\",\"data\":\"" + PNG + "\"}]}", null);
        assertThat(form.statusCode()).as(form.body()).isEqualTo(202);
        for (String q : new String[]{"checkout", "350"}) {
            RunningProduct.await(() -> product.admin("GET", "/api/conversations?q=" + q, null).path("items").size() >= 1,
                    Duration.ofSeconds(20));
        }

        profile = Files.createTempDirectory("chromium-profile");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile, "--window-size=1440,900",
                "--lang=en-US");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
    }

    static void webhook(java.net.http.HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }

    WebDriverWait waitUpTo(int seconds) {
        // the page redraws lists when live events arrive: an element found a moment ago may be gone
        return (WebDriverWait) new WebDriverWait(browser, Duration.ofSeconds(seconds))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class);
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    void signIn(String user, String password) {
        browser.get(product.base + "/?lang=en");
        waitUpTo(10).until(d -> d.getCurrentUrl().contains("/login"));
        browser.findElement(By.id("username")).sendKeys(user);
        browser.findElement(By.id("password")).sendKeys(password);
        browser.findElement(By.id("login-submit")).click();
        waitUpTo(15).until(d -> !d.findElements(By.cssSelector("#live[data-state='on']")).isEmpty());
        // the view buttons are drawn from GET /api/views, which may answer after the live stream is on
        waitUpTo(15).until(d -> !d.findElements(By.id("view-open")).isEmpty());
    }

    @Test
    void anAgentSeesAConversationArriveLive_readsItEscaped_repliesAndSeesItSent_andTheOperatorSeesCharts() throws Exception {
        signIn("admin", RunningProduct.ADMIN_PASSWORD);
        browser.findElement(By.id("view-open")).click();
        waitUpTo(10).until(d -> d.findElements(By.cssSelector(".queue-item")).size() >= 4);
        Object loadedAt = js("return window.__sbLoadedAt;");

        // a Telegram photo whose caption looks like markup arrives while the page is open
        String update = RunningProduct.fixture("telegram/zammad_private_photo_caption.json")
                .replace("111111", "5199").replace("Test Firstname", "Petr")
                .replaceFirst("\"date\"\\s*:\\s*\\d+", "\"date\":" + Instant.now().getEpochSecond());
        webhook(product.send("POST", "/webhooks/telegram/default", update, null, "X-Telegram-Bot-Api-Secret-Token", RunningProduct.SECRET));
        String itemId = waitUpTo(15).until(d -> d.findElements(By.cssSelector(".queue-item")).stream()
                .filter(e -> e.getText().contains("caption 123<b>abc</b>")).findFirst()
                .map(e -> e.getDomAttribute("data-id")).orElse(null));
        By item = By.cssSelector(".queue-item[data-id='" + itemId + "']");
        assertThat(js("return window.__sbLoadedAt;")).as("arrived without reloading the page").isEqualTo(loadedAt);
        Boolean noMarkup = waitUpTo(5).until(d -> d.findElement(item).findElements(By.tagName("b")).isEmpty());
        assertThat(noMarkup).as("customer text is never markup").isTrue();

        waitUpTo(5).until(d -> {
            d.findElement(item).click();
            return true;
        });
        waitUpTo(10).until(d -> d.findElements(By.cssSelector("#timeline .msg-inbound .msg-text")).stream()
                .anyMatch(e -> e.getText().equals("caption 123<b>abc</b>") && e.findElements(By.tagName("b")).isEmpty()));
        assertThat(browser.findElement(By.id("contact")).getText()).contains("Petr");

        // reply: it goes out through Telegram and its status turns "sent" live
        WebElement text = browser.findElement(By.id("reply-text"));
        text.sendKeys("We are looking into it, Petr.");
        browser.findElement(By.id("send")).click();
        waitUpTo(20).until(d -> d.findElements(By.cssSelector("#timeline .msg-outbound .delivery[data-status='sent']")).stream()
                .anyMatch(e -> e.findElement(By.xpath("..")).getText().contains("We are looking into it, Petr.")));
        assertThat(product.telegramCalls).anyMatch(c -> c.contains("sendMessage") && c.contains("We are looking into it, Petr."));

        // an internal note stays inside: shown as a note, no delivery status, nothing sent to Telegram
        browser.findElement(By.id("mode-note")).click();
        browser.findElement(By.id("reply-text")).sendKeys("@olga please check the photo");
        browser.findElement(By.id("send")).click();
        waitUpTo(10).until(d -> d.findElements(By.cssSelector("#timeline .kind-note")).stream()
                .anyMatch(e -> e.getText().contains("@olga please check the photo") && e.findElements(By.cssSelector(".delivery")).isEmpty()));
        assertThat(product.telegramCalls).noneMatch(c -> c.contains("please check the photo"));
        browser.findElement(By.id("mode-reply")).click();

        // a tag added in the conversation pane shows as a chip, and the queue's tag filter (server-side) keeps just this one
        browser.findElement(By.id("tag-input")).sendKeys("Photo-Issue" + org.openqa.selenium.Keys.ENTER);
        waitUpTo(10).until(d -> d.findElements(By.cssSelector("#conv-tags .chip[data-tag='photo-issue']")).size() == 1);
        waitUpTo(10).until(d -> d.findElements(By.cssSelector("#filter-tag option[value='photo-issue']")).size() == 1);
        chooseFilter("filter-tag", "photo-issue");
        waitUpTo(10).until(d -> d.findElements(By.cssSelector(".queue-item")).size() == 1
                && itemId.equals(d.findElements(By.cssSelector(".queue-item")).get(0).getDomAttribute("data-id")));
        chooseFilter("filter-tag", "");
        waitUpTo(10).until(d -> d.findElements(By.cssSelector(".queue-item")).size() >= 4);
        // "Merge into…" offers the contact's other conversations; Petr has none, and says so
        browser.findElement(By.id("act-merge")).click();
        waitUpTo(10).until(d -> d.findElement(By.id("merge-panel")).isDisplayed()
                && !d.findElement(By.id("merge-hint")).getText().isEmpty());
        assertThat(browser.findElement(By.id("merge-confirm")).isEnabled()).isFalse();
        browser.findElement(By.id("merge-cancel")).click();
        waitUpTo(5).until(d -> !d.findElement(By.id("merge-panel")).isDisplayed());
        screenshot("workspace.png");

        // the timeline previews an image the customer attached, and shows a call as a call entry
        openItemWith("Vera Screenshot");
        WebElement thumb = waitUpTo(10).until(d -> d.findElements(By.cssSelector("#timeline .msg-inbound img.thumb")).stream()
                .findFirst().orElse(null));
        waitUpTo(10).until(d -> ((Number) js("return arguments[0].complete ? arguments[0].naturalWidth : 0;", thumb)).intValue() == 8);
        assertThat(thumb.getDomAttribute("src")).startsWith("/api/files/");
        assertThat(thumb.findElement(By.xpath("..")).getText()).contains("error.png");
        openItemWith("350");
        WebElement callEntry = waitUpTo(10).until(d -> d.findElements(By.cssSelector("#timeline .kind-call .msg-text.call")).stream()
                .findFirst().orElse(null));
        assertThat(callEntry.getDomAttribute("data-disposition")).isEqualTo("no-answer");
        assertThat(callEntry.findElement(By.cssSelector(".call-title")).getText()).contains("Inbound call").contains("missed");
        assertThat(callEntry.findElements(By.cssSelector(".call-back"))).hasSize(1);
        screenshot("workspace-call.png");

        // keyboard: j moves to the next conversation; the FAQ answer is suggested for a 2FA question
        browser.findElement(By.tagName("body")).click();
        openByKeys("аутентификатором");
        WebElement suggestion = waitUpTo(10).until(d -> {
            WebElement s = d.findElement(By.id("suggestion"));
            return s.isDisplayed() ? s : null;
        });
        assertThat(suggestion.getText()).contains("двухфакторной");
        browser.findElement(By.id("suggestion-insert")).click();
        assertThat(browser.findElement(By.id("reply-text")).getDomProperty("value")).contains("двухфакторную");
        screenshot("workspace-suggestion.png");

        // e resolves and reopens the open conversation from the keyboard
        browser.findElement(By.id("reply-text")).clear();
        js("document.activeElement && document.activeElement.blur();");
        key("e");
        waitUpTo(10).until(d -> "resolved".equals(d.findElement(By.id("conv-status")).getDomAttribute("data-status")));
        key("e");
        waitUpTo(10).until(d -> "open".equals(d.findElement(By.id("conv-status")).getDomAttribute("data-status")));

        // the at-risk view keeps only conversations whose SLA clock is close to or past its deadline
        browser.findElement(By.id("view-risk")).click();
        waitUpTo(10).until(d -> d.findElements(By.cssSelector(".queue-item")).size() >= 1
                && d.findElements(By.cssSelector(".queue-item")).stream().allMatch(e -> !e.findElements(By.cssSelector(".sla-warn, .sla-breached")).isEmpty()));
        browser.findElement(By.id("view-open")).click();

        // Russian UI text
        browser.findElement(By.cssSelector("[data-lang='ru']")).click();
        waitUpTo(5).until(d -> d.findElement(By.id("view-open")).getText().contains("Все открытые"));
        assertThat(browser.findElement(By.id("send")).getText()).isEqualTo("Отправить");
        browser.findElement(By.cssSelector("[data-lang='en']")).click();

        // the operators' dashboard, all from the SLA summary: tiles, backlog, p50/p90 by day, breach rates
        browser.get(product.base + "/dashboard?lang=en");
        waitUpTo(20).until(d -> points(d, "chart-age") > 0 && points(d, "chart-sla") > 0 && points(d, "chart-rate") > 0
                && points(d, "chart-rate-agent") > 0);
        for (String chart : new String[]{"chart-age", "chart-sla", "chart-rate", "chart-rate-agent"}) {
            assertThat(browser.findElements(By.cssSelector("#" + chart + " canvas"))).as(chart).isNotEmpty();
        }
        waitUpTo(10).until(d -> Integer.parseInt(d.findElement(By.cssSelector("#tile-open .n")).getText()) >= 4);
        assertThat(Integer.parseInt(browser.findElement(By.cssSelector("#tile-breached .n")).getText())).as("Ivan").isGreaterThanOrEqualTo(1);
        assertThat(Integer.parseInt(browser.findElement(By.cssSelector("#tile-risk .n")).getText())).as("Maria").isGreaterThanOrEqualTo(1);
        // breach rate: Oleg's first response (telegram, olga) came 130 minutes after a 1-hour target
        assertThat(barOf("chart-rate", "telegram")).isGreaterThan(0);
        assertThat(barOf("chart-rate-agent", "olga")).isGreaterThan(0);
        assertThat(browser.findElement(By.cssSelector("#tile-risk")).getText()).contains("30 min");
        screenshot("dashboard.png");

        // signing out ends the session: the workspace asks for the password again
        browser.findElement(By.cssSelector("form.logout button")).click();
        waitUpTo(10).until(d -> d.getCurrentUrl().contains("/login?logout"));
        browser.get(product.base + "/");
        waitUpTo(10).until(d -> d.getCurrentUrl().contains("/login"));
    }

    /** The first-response bar of one category (channel, agent) of a breach-rate chart, in percent. */
    double barOf(String chartId, String category) {
        Object v = js("const o = echarts.getInstanceByDom(document.getElementById(arguments[0])).getOption();"
                + "const i = o.xAxis[0].data.indexOf(arguments[1]); return i < 0 ? -1 : o.series[0].data[i];", chartId, category);
        assertThat(v).as(chartId + " has " + category).isNotNull();
        return ((Number) v).doubleValue();
    }

    /** Clicks the queue item whose text contains {@code text} and waits for its timeline. */
    void openItemWith(String text) {
        String id = waitUpTo(15).until(d -> d.findElements(By.cssSelector(".queue-item")).stream()
                .filter(e -> e.getText().contains(text)).findFirst().map(e -> e.getDomAttribute("data-id")).orElse(null));
        waitUpTo(5).until(d -> {
            d.findElement(By.cssSelector(".queue-item[data-id='" + id + "']")).click();
            return true;
        });
        waitUpTo(10).until(d -> d.findElements(By.cssSelector(".queue-item.selected[data-id='" + id + "']")).size() == 1
                && !d.findElements(By.cssSelector("#timeline .msg")).isEmpty());
    }

    /** Goes to the top of the queue with k, then presses j until the conversation containing {@code text} is open. */
    void openByKeys(String text) {
        int n = browser.findElements(By.cssSelector(".queue-item")).size();
        js("document.activeElement && document.activeElement.blur();");
        for (int up = 0; up < n; up++) {
            key("k");
        }
        for (int i = 0; i <= 2 * n + 2; i++) {
            pause();
            try {
                if (browser.findElements(By.cssSelector("#timeline .msg-inbound .msg-text")).stream()
                        .anyMatch(m -> m.getText().contains(text))) {
                    return;
                }
            } catch (org.openqa.selenium.StaleElementReferenceException redrawn) {
                continue; // the timeline was redrawn while being read: look again
            }
            key("j");
        }
        throw new AssertionError("no conversation with '" + text + "' reached with j/k");
    }

    /** Picks a value of a filter control as a user would (its options are redrawn when tags change). */
    void chooseFilter(String id, String value) {
        js("const s = document.getElementById(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change'));", id, value);
    }

    void key(String k) {
        new org.openqa.selenium.interactions.Actions(browser).sendKeys(k).perform();
    }

    static void pause() {
        try {
            Thread.sleep(500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static long points(WebDriver d, String chartId) {
        String p = d.findElement(By.id(chartId)).getDomAttribute("data-points");
        return p == null ? 0 : Long.parseLong(p);
    }

    /**
     * Screenshots go to target/screenshots, so a test run leaves the checkout as it was; with
     * -Dscreenshots.update=true they replace the ones the README shows in docs/screenshots.
     */
    void screenshot(String name) throws IOException {
        Path dir = Boolean.getBoolean("screenshots.update") && Files.isDirectory(Path.of("..", "docs"))
                ? Path.of("..", "docs", "screenshots") : Path.of("target", "screenshots");
        Files.createDirectories(dir);
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), dir.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
